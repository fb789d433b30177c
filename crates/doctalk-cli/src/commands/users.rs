//! `doctalk users add|list|rm|token`: the people a team server answers (`serve --auth users`).
//! The same operations as the admin page (`/api/users`); each is written to the audit log.

use std::process::ExitCode;

use doctalk_app::service::{self, NewUser};
use serde_json::Value;

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
            service::audit_local(dir, "users add", &service::describe_user(&reply["user"]));
            if json {
                out_line(&reply.to_string())?;
            } else {
                eprintln!("added {}", describe(&reply["user"]));
                print_token(&reply);
            }
        }
        UsersCommand::List { json } => {
            let users = service::list_users(dir)?;
            if json {
                out_line(&users.to_string())?;
            } else if users.as_array().is_none_or(|u| u.is_empty()) {
                eprintln!("no users yet: `doctalk users add NAME --role admin` adds the first");
            } else {
                for user in users.as_array().into_iter().flatten() {
                    println!("{}", describe(user));
                }
            }
        }
        UsersCommand::Rm { name, json } => {
            let reply = service::remove_user(dir, &name)?;
            service::audit_local(dir, "users rm", &name);
            if json {
                out_line(&reply.to_string())?;
            } else {
                eprintln!("removed {name}: their token no longer works");
            }
        }
        UsersCommand::Token { name, json } => {
            let reply = service::renew_token(dir, &name)?;
            service::audit_local(dir, "users token", &name);
            if json {
                out_line(&reply.to_string())?;
            } else {
                eprintln!("{name} has a new token; the old one no longer works");
                print_token(&reply);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One user on one line: name, role, knowledge bases.
fn describe(user: &Value) -> String {
    let kbs = if user["all_kbs"].as_bool() == Some(true) {
        "every knowledge base".to_string()
    } else {
        let names: Vec<&str> = user["kbs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        format!("knowledge bases: {}", names.join(", "))
    };
    format!(
        "{}\t{}\t{}",
        user["name"].as_str().unwrap_or("?"),
        user["role"].as_str().unwrap_or("?"),
        kbs
    )
}

/// The token on stdout alone (scripts read it), the advice on stderr.
fn print_token(reply: &Value) {
    println!("{}", reply["token"].as_str().unwrap_or_default());
    eprintln!("This token is shown only now: give it to its user (Authorization: Bearer TOKEN, or the web UI's address with ?token=TOKEN).");
}
