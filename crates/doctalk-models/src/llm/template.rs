//! Chat templates: the model's own Jinja template, rendered the way `transformers` renders it.
//!
//! `transformers` uses a sandboxed Jinja environment with `trim_blocks` and `lstrip_blocks` on and
//! passes `messages`, `add_generation_prompt`, `bos_token` and `eos_token`; we do the same with
//! minijinja (plus its Python-compatibility methods, since templates call `.strip()` and friends).
//! Models whose files carry no template (ChatGLM3, GLM-4 `tokenizer_config.json` from older exports,
//! Gemma GGUFs) get their official format from `templates/*.jinja`.

use minijinja::{context, Environment, Error as JinjaError, ErrorKind};

use super::types::ChatMessage;
use crate::error::{ModelError, Result};

/// ChatGLM3-6B: `[gMASK]sop<|role|>\n content…<|assistant|>` (its tokenizer's `build_chat_input`).
pub const CHATGLM3_TEMPLATE: &str = include_str!("templates/chatglm3.jinja");
/// GLM-4-9B-chat: like ChatGLM3 with `<sop>` and the GLM-4 role tokens.
pub const GLM4_TEMPLATE: &str = include_str!("templates/glm4.jinja");
/// Gemma 3 (instruction-tuned): `<start_of_turn>user … <end_of_turn>`, system text folded into the first user turn.
pub const GEMMA3_TEMPLATE: &str = include_str!("templates/gemma3.jinja");

const TEMPLATE_NAME: &str = "chat";

/// A compiled chat template with the special-token strings it may refer to.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// Compiles `source`; fails on a syntax error, naming the line.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(template_error)?;
        Ok(Self {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
        })
    }

    /// Renders `messages` and opens the assistant's turn (`add_generation_prompt = true`).
    pub fn render(&self, messages: &[ChatMessage]) -> Result<String> {
        let messages: Vec<_> = messages
            .iter()
            .map(|m| context! { role => m.role.as_str(), content => m.content.as_str() })
            .collect();
        let template = self.env.get_template(TEMPLATE_NAME).map_err(template_error)?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => true,
                bos_token => self.bos_token.as_str(),
                eos_token => self.eos_token.as_str(),
            })
            .map_err(template_error)
    }
}

fn raise_exception(message: String) -> Result<String, JinjaError> {
    Err(JinjaError::new(ErrorKind::InvalidOperation, message))
}

fn template_error(err: JinjaError) -> ModelError {
    // minijinja's Display omits the cause chain; the detail often names the offending construct.
    let mut msg = err.to_string();
    if let Some(detail) = err.detail() {
        if !msg.contains(detail) {
            msg = format!("{msg}: {detail}");
        }
    }
    ModelError::Template(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_is_a_template_error() {
        let err = ChatTemplate::new("{% for m in messages %}", "", "").unwrap_err();
        assert!(matches!(err, ModelError::Template(_)), "{err}");
    }

    #[test]
    fn raise_exception_surfaces_the_templates_message() {
        let t = ChatTemplate::new(GEMMA3_TEMPLATE, "<bos>", "<eos>").unwrap();
        let err = t
            .render(&[ChatMessage::assistant("hi"), ChatMessage::assistant("again")])
            .unwrap_err();
        assert!(err.to_string().contains("must alternate"), "{err}");
    }

    #[test]
    fn chatglm3_format() {
        let t = ChatTemplate::new(CHATGLM3_TEMPLATE, "", "").unwrap();
        let got = t.render(&[ChatMessage::user("你好")]).unwrap();
        assert_eq!(got, "[gMASK]sop<|user|>\n你好<|assistant|>");
    }
}
