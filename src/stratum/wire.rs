//! JSON-RPC 1.0 lines as stratum uses them (ZIP 301 §"Protocol"; `spec/stratum.md` §1–2).
//!
//! One message per line, no LF inside. A line is either a request/notification (it has a
//! `method`) or a response (it has `result` and/or `error`). Error objects are
//! `[code, "message", traceback]`; codes 20–25 are told apart by [`ErrorCode`].

use serde_json::{Map, Value, json};
use thiserror::Error;

/// The longest line either side accepts (bytes, without the LF). A ZelHash submit is about
/// 300 bytes and a notify about 400; 16 KiB leaves room for any real pool and stops a hostile
/// peer from growing our buffers without bound.
pub const MAX_LINE_LEN: usize = 16 * 1024;

/// Why a line is not a stratum message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// The line is longer than [`MAX_LINE_LEN`].
    #[error("line of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Bytes in the line.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The line is not JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The JSON is not an object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// The object has neither `method` nor `result`/`error`.
    #[error("message has neither a method nor a result")]
    NeitherRequestNorResponse,
    /// `method` is not a string.
    #[error("method is not a string")]
    MethodNotString,
    /// `params` is present but not an array.
    #[error("params of {method} is not an array")]
    ParamsNotArray {
        /// The method.
        method: String,
    },
}

/// A stratum error code (`spec/stratum.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 20: other or unknown (s-nomp: bad sizes, bad hex, invalid solution).
    Other,
    /// 21: job not found, i.e. a stale share.
    JobNotFound,
    /// 22: duplicate share.
    Duplicate,
    /// 23: low difficulty share.
    LowDifficulty,
    /// 24: unauthorized worker.
    Unauthorized,
    /// 25: not subscribed.
    NotSubscribed,
    /// Any other number a pool sends.
    Unknown(i64),
    /// An error without a code (`true`, a string, an object or array without a number).
    Unspecified,
}

impl ErrorCode {
    /// From the wire number.
    pub fn from_i64(code: i64) -> ErrorCode {
        match code {
            20 => ErrorCode::Other,
            21 => ErrorCode::JobNotFound,
            22 => ErrorCode::Duplicate,
            23 => ErrorCode::LowDifficulty,
            24 => ErrorCode::Unauthorized,
            25 => ErrorCode::NotSubscribed,
            n => ErrorCode::Unknown(n),
        }
    }

    /// The wire number.
    pub fn to_i64(self) -> i64 {
        match self {
            ErrorCode::Other => 20,
            ErrorCode::JobNotFound => 21,
            ErrorCode::Duplicate => 22,
            ErrorCode::LowDifficulty => 23,
            ErrorCode::Unauthorized => 24,
            ErrorCode::NotSubscribed => 25,
            ErrorCode::Unknown(n) => n,
            ErrorCode::Unspecified => 20,
        }
    }
}

/// An error object `[code, message, traceback]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The code.
    pub code: ErrorCode,
    /// The pool's message.
    pub message: String,
    /// The traceback (usually `null`).
    pub traceback: Value,
}

impl RpcError {
    /// An error with a `null` traceback.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            traceback: Value::Null,
        }
    }

    /// Parses any error a pool sends: the array form `[code, message, traceback]`, the object
    /// form `{"code":…, "message":…}`, a bare code, and the forms without a code that real pools
    /// send (s-nomp's `true`, a plain string: ZIP 301 says to render unknown forms, not to fail
    /// the line), which get [`ErrorCode::Unspecified`].
    pub fn from_value(v: &Value) -> RpcError {
        let code = |c: Option<&Value>| {
            c.and_then(Value::as_i64)
                .map_or(ErrorCode::Unspecified, ErrorCode::from_i64)
        };
        let text = |m: Option<&Value>| match m {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        match v {
            Value::Array(a) => RpcError {
                code: code(a.first()),
                message: text(a.get(1)),
                traceback: a.get(2).cloned().unwrap_or(Value::Null),
            },
            Value::Object(o) => RpcError::new(code(o.get("code")), text(o.get("message"))),
            Value::Number(_) => RpcError::new(code(Some(v)), ""),
            Value::String(s) => RpcError::new(ErrorCode::Unspecified, s.clone()),
            other => RpcError::new(ErrorCode::Unspecified, other.to_string()),
        }
    }

    /// The array form.
    pub fn to_value(&self) -> Value {
        json!([self.code.to_i64(), self.message, self.traceback])
    }
}

/// A request or notification (a notification has `id: null`).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id (`null` for notifications).
    pub id: Value,
    /// The method name.
    pub method: String,
    /// The positional params (empty when absent).
    pub params: Vec<Value>,
}

/// A response to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's id.
    pub id: Value,
    /// The result (`null` on error).
    pub result: Value,
    /// The error, if any.
    pub error: Option<RpcError>,
}

/// One line of stratum.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Has a method.
    Request(Request),
    /// Has a result or an error.
    Response(Response),
}

impl Message {
    /// Parses one line (without its LF).
    ///
    /// # Errors
    /// A [`WireError`] naming what is wrong.
    pub fn parse(line: &str) -> Result<Message, WireError> {
        if line.len() > MAX_LINE_LEN {
            return Err(WireError::TooLong {
                len: line.len(),
                max: MAX_LINE_LEN,
            });
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| WireError::InvalidJson(e.to_string()))?;
        let Value::Object(mut o) = v else {
            return Err(WireError::NotAnObject);
        };
        let id = o.remove("id").unwrap_or(Value::Null);
        if let Some(m) = o.remove("method") {
            let Value::String(method) = m else {
                return Err(WireError::MethodNotString);
            };
            let params = match o.remove("params") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a,
                Some(_) => return Err(WireError::ParamsNotArray { method }),
            };
            return Ok(Message::Request(Request { id, method, params }));
        }
        if !o.contains_key("result") && !o.contains_key("error") {
            return Err(WireError::NeitherRequestNorResponse);
        }
        let error = match o.remove("error") {
            None | Some(Value::Null) => None,
            Some(e) => Some(RpcError::from_value(&e)),
        };
        Ok(Message::Response(Response {
            id,
            result: o.remove("result").unwrap_or(Value::Null),
            error,
        }))
    }

    /// The JSON value, with the fields in the usual order.
    pub fn to_value(&self) -> Value {
        let mut o = Map::new();
        match self {
            Message::Request(r) => {
                o.insert("id".into(), r.id.clone());
                o.insert("method".into(), Value::String(r.method.clone()));
                o.insert("params".into(), Value::Array(r.params.clone()));
            }
            Message::Response(r) => {
                o.insert("id".into(), r.id.clone());
                o.insert("result".into(), r.result.clone());
                o.insert(
                    "error".into(),
                    r.error.as_ref().map_or(Value::Null, RpcError::to_value),
                );
            }
        }
        Value::Object(o)
    }

    /// One line, without the LF.
    pub fn to_line(&self) -> String {
        self.to_value().to_string()
    }

    /// A request line.
    pub fn request(id: Value, method: &str, params: Vec<Value>) -> Message {
        Message::Request(Request {
            id,
            method: method.to_string(),
            params,
        })
    }

    /// A notification (id `null`).
    pub fn notification(method: &str, params: Vec<Value>) -> Message {
        Message::request(Value::Null, method, params)
    }

    /// A successful response.
    pub fn ok(id: Value, result: Value) -> Message {
        Message::Response(Response {
            id,
            result,
            error: None,
        })
    }

    /// An error response.
    pub fn err(id: Value, error: RpcError) -> Message {
        Message::Response(Response {
            id,
            result: Value::Null,
            error: Some(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_and_response() {
        let m =
            Message::parse(r#"{"id":1,"method":"mining.subscribe","params":["a",null]}"#).unwrap();
        assert!(matches!(&m, Message::Request(r) if r.method == "mining.subscribe"));
        let m = Message::parse(r#"{"id":4,"result":null,"error":[23,"low",null]}"#).unwrap();
        let Message::Response(r) = m else { panic!() };
        assert_eq!(r.error.unwrap().code, ErrorCode::LowDifficulty);
    }

    #[test]
    fn rejects_malformed() {
        assert!(matches!(
            Message::parse("{"),
            Err(WireError::InvalidJson(_))
        ));
        assert_eq!(Message::parse("[1]"), Err(WireError::NotAnObject));
        assert_eq!(
            Message::parse(r#"{"id":1}"#),
            Err(WireError::NeitherRequestNorResponse)
        );
        assert_eq!(
            Message::parse(r#"{"id":1,"method":5}"#),
            Err(WireError::MethodNotString)
        );
        assert!(matches!(
            Message::parse(r#"{"id":1,"method":"x","params":{}}"#),
            Err(WireError::ParamsNotArray { .. })
        ));
        // Interop fault 6: errors in forms real pools send parse, with the code unspecified.
        for (line, message) in [
            (r#"{"id":1,"result":null,"error":"boom"}"#, "boom"),
            (r#"{"id":1,"result":null,"error":true}"#, "true"),
            (r#"{"id":1,"result":false,"error":{"message":"no"}}"#, "no"),
            (r#"{"id":1,"result":null,"error":["x","y"]}"#, "y"),
        ] {
            let Ok(Message::Response(r)) = Message::parse(line) else {
                panic!("{line}")
            };
            let e = r.error.unwrap();
            assert_eq!(
                (e.code, e.message.as_str()),
                (ErrorCode::Unspecified, message),
                "{line}"
            );
        }
        let long = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_LINE_LEN));
        assert!(matches!(
            Message::parse(&long),
            Err(WireError::TooLong { .. })
        ));
    }

    #[test]
    fn codes_round_trip() {
        for n in 18..28 {
            assert_eq!(ErrorCode::from_i64(n).to_i64(), n);
        }
    }
}
