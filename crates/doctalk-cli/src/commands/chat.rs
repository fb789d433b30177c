//! `doctalk chat`: an interactive conversation over the knowledge base, saved as it goes.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use crate::app::Ctx;
use crate::cli::ChatArgs;
use crate::commands::ask::{answer_once, print_sources};

const HELP: &str = "Ask a question and press Enter. /new starts a new conversation, /sources shows the last \
answer's sources in full, /history lists this conversation, /quit (or Ctrl+D) leaves.";

pub async fn run(ctx: &Ctx, args: ChatArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let scope = kb.resolve_scope(&args.scope.request()).await?;
    let generator = ctx.load_generator_or_warn(&args.answer).await?;
    let store = ctx.conversations();
    let mut conversation = match &args.conversation {
        Some(id) => store.load(id)?,
        None => store.create(),
    };
    eprintln!("conversation {} — {HELP}", conversation.id);
    let mut last: Option<doctalk_core::Answer> = None;
    let stdin = std::io::stdin();
    loop {
        eprint!("> ");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim();
        match line {
            "" => continue,
            "/quit" | "/exit" => break,
            "/help" => eprintln!("{HELP}"),
            "/new" => {
                conversation = store.create();
                last = None;
                eprintln!("new conversation {}", conversation.id);
            }
            "/history" => {
                for (i, t) in conversation.turns.iter().enumerate() {
                    println!(
                        "{}. {}\n   {}",
                        i + 1,
                        t.question,
                        t.answer.replace('\n', "\n   ")
                    );
                }
            }
            "/sources" => match &last {
                Some(a) => {
                    for s in &a.sources {
                        println!("[{}] {} — {}\n{}\n", s.n, s.label(a.lang), s.path, s.text);
                    }
                }
                None => eprintln!("no answer yet"),
            },
            question => {
                let answer = answer_once(
                    &kb,
                    question,
                    conversation.turns.clone(),
                    generator.clone(),
                    &args.answer,
                    scope.clone(),
                    true,
                )
                .await?;
                print_sources(&answer)?;
                conversation.push(question, &answer);
                store.save(&conversation)?;
                last = Some(answer);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
