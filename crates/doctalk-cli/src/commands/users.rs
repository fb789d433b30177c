//! `doctalk users add|list|rm|token`: the people a team server answers (`serve --auth users`).
//! The same operations as the admin page (`/api/users`); each is written to the audit log.

use std::process::ExitCode;

use doctalk_app::service::{self, IssuedToken, NewUser};
use doctalk_core::users::PublicUser;

use crate::app::Ctx;
use crate::cli::UsersCommand;
use crate::output::out_line;

pub fn run(ctx: &Ctx, cmd: UsersCommand) -> anyhow::Result<ExitCode> {
    let dir = &ctx.data_dir;
    match cmd {
        UsersCommand::Add {
            name,
            role,
            kbs,
            json,
        } => {
            let reply = service::add_user(dir, &NewUser { name, role, kbs })?;
            service::audit_local(dir, "users add", &reply.user.describe());
            if json {
                out_line(&serde_json::to_string(&reply)?)?;
            } else {
                eprintln!("added {}", describe(&reply.user));
                print_token(&reply);
            }
        }
        UsersCommand::List { json } => {
            let users = service::list_users(dir)?;
            if json {
                out_line(&serde_json::to_string(&users)?)?;
            } else if users.is_empty() {
                eprintln!("no users yet: `doctalk users add NAME --role admin` adds the first");
            } else {
                for user in &users {
                    println!("{}", describe(user));
                }
            }
        }
        UsersCommand::Rm { name, json } => {
            let reply = service::remove_user(dir, &name)?;
            service::audit_local(dir, "users rm", &name);
            if json {
                out_line(&serde_json::to_string(&reply)?)?;
            } else {
                eprintln!("removed {name}: their token no longer works");
            }
        }
        UsersCommand::Token { name, json } => {
            let reply = service::renew_token(dir, &name)?;
            service::audit_local(dir, "users token", &name);
            if json {
                out_line(&serde_json::to_string(&reply)?)?;
            } else {
                eprintln!("{name} has a new token; the old one no longer works");
                print_token(&reply);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One user on one line: name, role, knowledge bases.
fn describe(user: &PublicUser) -> String {
    let kbs = if user.all_kbs {
        "every knowledge base".to_string()
    } else {
        format!("knowledge bases: {}", user.kbs.join(", "))
    };
    format!("{}\t{}\t{}", user.name, user.role.as_str(), kbs)
}

/// The token on stdout alone (scripts read it), the advice on stderr.
fn print_token(reply: &IssuedToken) {
    println!("{}", reply.token);
    eprintln!("This token is shown only now: give it to its user (Authorization: Bearer TOKEN, or the web UI's address with ?token=TOKEN).");
}
