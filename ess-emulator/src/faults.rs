//! Fault injection: rules that make the emulator misbehave for chosen actions (HTTP errors,
//! dropped connections, delays, broken bodies, service errors), before or after the action
//! runs, a given number of times or always.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One way to misbehave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this HTTP status and an HTML body, as a gateway would.
    Status(u16),
    /// Close the connection without answering.
    Drop,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer 200 with the first half of the real JSON body.
    Truncated,
    /// Answer 200 with an HTML page instead of JSON.
    Html,
    /// Answer with the real answer, drifted from its documented types as Tencent's services
    /// are known to: every integer sent as a string (`"Total":"23"`), every boolean as a
    /// string, every empty list as `null`. The action runs.
    Drift,
    /// Answer with this service error in the JSON envelope.
    Error {
        /// The code (`InternalError`).
        code: String,
        /// The message.
        message: String,
    },
}

/// When a fault applies, to what, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub(crate) fault: Fault,
    pub(crate) action: Option<String>,
    pub(crate) remaining: Option<u32>,
    pub(crate) after: bool,
}

impl FaultRule {
    /// `fault` on every call of every action, before the action runs.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            action: None,
            remaining: None,
            after: false,
        }
    }

    /// Only calls of this action.
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Only the next `n` matching calls.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// After the action has run (its effects stay), so the caller cannot tell whether it
    /// executed: the case where a blind retry would execute a write twice.
    pub fn after_execution(mut self) -> Self {
        self.after = true;
        self
    }

    pub(crate) fn matches(&self, action: &str, after: bool) -> bool {
        self.after == after
            && self.remaining != Some(0)
            && self.action.as_deref().is_none_or(|a| a == action)
    }
}

/// `[ACTION=]KIND[@after][*N]`, where KIND is `status:CODE`, `drop`, `delay:MS`,
/// `truncated`, `html`, `drift` or `error:CODE`. Examples: `CreateFlow=status:502@after*1`,
/// `delay:1500`, `CreateFlowSignUrl=error:InternalError*2`.
impl FromStr for FaultRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (action, rest) = match text.split_once('=') {
            Some((action, rest)) => (Some(action.to_owned()), rest),
            None => (None, text),
        };
        let (rest, times) = match rest.rsplit_once('*') {
            Some((rest, n)) => {
                let n = n
                    .parse()
                    .map_err(|_| format!("`*{n}` must be a count of calls"))?;
                (rest, Some(n))
            }
            None => (rest, None),
        };
        let (kind, after) = match rest.strip_suffix("@after") {
            Some(kind) => (kind, true),
            None => (rest, false),
        };
        let (name, arg) = match kind.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (kind, None),
        };
        let fault = match (name, arg) {
            ("status", Some(code)) => match code.parse::<u16>() {
                Ok(code) if (100..=599).contains(&code) => Fault::Status(code),
                _ => return Err(format!("`{code}` is not an HTTP status")),
            },
            ("drop", None) => Fault::Drop,
            ("delay", Some(ms)) => {
                let delay = Duration::from_millis(
                    ms.parse()
                        .map_err(|_| format!("`{ms}` must be milliseconds"))?,
                );
                if delay > MAX_FAULT_DELAY {
                    return Err(format!(
                        "a delay is at most {} ms",
                        MAX_FAULT_DELAY.as_millis()
                    ));
                }
                Fault::Delay(delay)
            }
            ("truncated", None) => Fault::Truncated,
            ("html", None) => Fault::Html,
            ("drift", None) => Fault::Drift,
            ("error", Some(code)) if !code.is_empty() => Fault::Error {
                code: code.to_owned(),
                message: "injected by the emulator".to_owned(),
            },
            _ => {
                return Err(format!(
                    "unknown fault `{kind}`: use status:CODE, drop, delay:MS, truncated, html, drift or error:CODE"
                ));
            }
        };
        Ok(FaultRule {
            fault,
            action: action.filter(|a| !a.is_empty()),
            remaining: times,
            after,
        })
    }
}

/// The longest delay a fault may inject.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(600);
/// How many fault rules the emulator keeps; adding one more drops used-up rules, then the
/// oldest.
pub const MAX_FAULTS: usize = 1_000;

/// The syntax [`FaultRule`] parses from: `[ACTION=]KIND[@after][*N]`.
impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(action) = &self.action {
            write!(f, "{action}=")?;
        }
        write!(f, "{}", self.fault)?;
        if self.after {
            f.write_str("@after")?;
        }
        if let Some(n) = self.remaining {
            write!(f, "*{n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(code) => write!(f, "status:{code}"),
            Fault::Drop => f.write_str("drop"),
            Fault::Delay(d) => write!(f, "delay:{}", d.as_millis()),
            Fault::Truncated => f.write_str("truncated"),
            Fault::Html => f.write_str("html"),
            Fault::Drift => f.write_str("drift"),
            Fault::Error { code, .. } => write!(f, "error:{code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_from_flags() {
        let rule: FaultRule = "CreateFlow=status:502@after*1".parse().unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::Status(502))
                .action("CreateFlow")
                .after_execution()
                .times(1)
        );
        let rule: FaultRule = "delay:1500".parse().unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::Delay(Duration::from_millis(1500)))
        );
        assert_eq!(
            "DescribeFlowInfo=drift".parse::<FaultRule>().unwrap(),
            FaultRule::new(Fault::Drift).action("DescribeFlowInfo")
        );
        assert!(matches!(
            "x=error:InternalError".parse::<FaultRule>().unwrap().fault,
            Fault::Error { ref code, .. } if code == "InternalError"
        ));
        for bad in [
            "status:99",
            "status",
            "delay:soon",
            "delay:600001",
            "explode",
            "drop*x",
        ] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
        // Display writes what parses back.
        for text in [
            "CreateFlow=status:502@after*1",
            "delay:1500",
            "drop",
            "A=error:InternalError*2",
        ] {
            let rule: FaultRule = text.parse().unwrap();
            assert_eq!(rule.to_string(), text);
        }
    }

    #[test]
    fn matching_respects_action_phase_and_count() {
        let rule = FaultRule::new(Fault::Drop).action("A").times(0);
        assert!(!rule.matches("A", false));
        let rule = FaultRule::new(Fault::Drop).action("A");
        assert!(rule.matches("A", false));
        assert!(!rule.matches("B", false));
        assert!(!rule.matches("A", true));
    }
}
