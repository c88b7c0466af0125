//! The model file's surface syntax: `#` comments, an `input CxHxW` line, and statements
//! `name = Module(arg, …, key=value, …)` that may continue over lines while a parenthesis is open.
//! This file only reads the text into calls; `spec` gives the calls their PyTorch meaning.

use crate::error::ModelError;

/// A value written as an argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A quoted string.
    Str(String),
    /// A parenthesised tuple, such as `(3, 3)`.
    Tuple(Vec<Value>),
    /// A module constructor call.
    Call(Call),
}

/// A constructor call such as `Conv2d(1, 12, 3, bias=False)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The class name without any `nn.` prefix.
    pub module: String,
    /// Line (from 1) where the call's name stands.
    pub line: usize,
    /// Positional arguments in order.
    pub args: Vec<Value>,
    /// Keyword arguments in order: (keyword, value).
    pub kwargs: Vec<(String, Value)>,
}

/// One statement of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `input CxHxW`.
    Input {
        /// Channels, height, width.
        dims: [usize; 3],
        /// Line of the statement.
        line: usize,
    },
    /// `name = Module(…)`.
    Assign {
        /// The module's attribute name (a `self.` prefix is dropped).
        name: String,
        /// Line of the statement.
        line: usize,
        /// The module.
        call: Call,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(String),
    Str(String),
    Open,
    Close,
    Comma,
    Equals,
}

/// The physical lines of one statement: (line number, code without its comment).
pub type StatementLines = Vec<(usize, String)>;

/// Splits `text` into logical statements: (first line, its lines), joining lines while a parenthesis is
/// open. Unbalanced parentheses are reported at the line that opened them. (Search spaces read model files
/// with choices through it too.)
pub fn logical_lines(origin: &str, text: &str) -> Result<Vec<(usize, StatementLines)>, ModelError> {
    let mut out = Vec::new();
    let mut current: Vec<(usize, String)> = Vec::new();
    let (mut depth, mut opened_at) = (0i64, 0usize);
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let mut code = String::new();
        let mut quote: Option<char> = None;
        for ch in raw.chars() {
            match quote {
                Some(q) => {
                    code.push(ch);
                    if ch == q {
                        quote = None;
                    }
                }
                None if ch == '#' => break,
                None => {
                    if ch == '\'' || ch == '"' {
                        quote = Some(ch);
                    } else if ch == '(' {
                        if depth == 0 {
                            opened_at = line_no;
                        }
                        depth += 1;
                    } else if ch == ')' {
                        depth -= 1;
                        if depth < 0 {
                            return Err(ModelError::at(
                                origin,
                                line_no,
                                "unbalanced parentheses: ')' without a matching '('",
                            ));
                        }
                    }
                    code.push(ch);
                }
            }
        }
        if !code.trim().is_empty() {
            current.push((line_no, code));
        }
        if depth == 0 && !current.is_empty() {
            out.push((current[0].0, std::mem::take(&mut current)));
        }
    }
    if depth > 0 {
        return Err(ModelError::at(
            origin,
            opened_at,
            format!("unbalanced parentheses: {depth} '(' never closed"),
        ));
    }
    Ok(out)
}

/// Tokens of one logical statement, each with its line.
fn tokenize(origin: &str, lines: &[(usize, String)]) -> Result<Vec<(usize, Token)>, ModelError> {
    let mut tokens = Vec::new();
    for (line, code) in lines {
        let chars: Vec<char> = code.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let start = i;
            i += 1;
            let token = match c {
                c if c.is_whitespace() => continue,
                '(' => Token::Open,
                ')' => Token::Close,
                ',' => Token::Comma,
                '=' => Token::Equals,
                '\'' | '"' => {
                    while i < chars.len() && chars[i] != c {
                        i += 1;
                    }
                    let s: String = chars[start + 1..i].iter().collect();
                    i += 1;
                    Token::Str(s)
                }
                c if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' => {
                    while i < chars.len()
                        && (chars[i].is_ascii_alphanumeric()
                            || chars[i] == '.'
                            || chars[i] == '_'
                            || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
                    {
                        i += 1;
                    }
                    Token::Number(chars[start..i].iter().collect())
                }
                c if c.is_alphabetic() || c == '_' => {
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                        i += 1;
                    }
                    Token::Ident(chars[start..i].iter().collect())
                }
                other => return Err(ModelError::at(origin, *line, format!("unexpected character '{other}'"))),
            };
            tokens.push((*line, token));
        }
    }
    Ok(tokens)
}

/// A recursive-descent reader over one statement's tokens.
struct Reader<'a> {
    origin: &'a str,
    tokens: Vec<(usize, Token)>,
    pos: usize,
    last_line: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn line(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.last_line, |(l, _)| *l)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ModelError> {
        Err(ModelError::at(self.origin, self.line(), message))
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), ModelError> {
        match self.peek() {
            Some(t) if *t == want => {
                self.pos += 1;
                Ok(())
            }
            Some(t) => {
                let t = describe(t);
                self.fail(format!("expected {what}, found {t}"))
            }
            None => self.fail(format!("expected {what} at the end of the statement")),
        }
    }

    /// A value: number, bool, None, string, tuple or call.
    fn value(&mut self) -> Result<Value, ModelError> {
        let line = self.line();
        match self.next() {
            Some(Token::Number(text)) => parse_number(&text)
                .ok_or(())
                .or_else(|_| self.fail(format!("'{text}' is not a number"))),
            Some(Token::Str(s)) => Ok(Value::Str(s)),
            Some(Token::Open) => {
                let mut items = Vec::new();
                while self.peek() != Some(&Token::Close) {
                    items.push(self.value()?);
                    if self.peek() == Some(&Token::Comma) {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                self.expect(Token::Close, "')' closing the tuple")?;
                Ok(Value::Tuple(items))
            }
            Some(Token::Ident(name)) => match name.as_str() {
                "True" | "true" => Ok(Value::Bool(true)),
                "False" | "false" => Ok(Value::Bool(false)),
                "None" => Ok(Value::None),
                _ => Ok(Value::Call(self.call(name, line)?)),
            },
            Some(t) => {
                self.pos -= 1;
                let t = describe(&t);
                self.fail(format!("expected a value, found {t}"))
            }
            None => self.fail("expected a value at the end of the statement"),
        }
    }

    /// The argument list of a call whose name has been read.
    fn call(&mut self, name: String, line: usize) -> Result<Call, ModelError> {
        let module = name
            .strip_prefix("torch.nn.")
            .or_else(|| name.strip_prefix("nn."))
            .unwrap_or(&name)
            .to_string();
        if self.peek() != Some(&Token::Open) {
            return self.fail(format!("expected '(' after '{name}' (a module is written Module(…))"));
        }
        self.pos += 1;
        let (mut args, mut kwargs) = (Vec::new(), Vec::<(String, Value)>::new());
        while self.peek() != Some(&Token::Close) {
            let keyword = match (self.tokens.get(self.pos), self.tokens.get(self.pos + 1)) {
                (Some((_, Token::Ident(k))), Some((_, Token::Equals))) => Some(k.clone()),
                _ => None,
            };
            if let Some(k) = keyword {
                self.pos += 2;
                if kwargs.iter().any(|(seen, _)| *seen == k) {
                    return self.fail(format!("{module}: keyword '{k}' given twice"));
                }
                kwargs.push((k, self.value()?));
            } else {
                if !kwargs.is_empty() {
                    return self.fail(format!("{module}: a positional argument follows a keyword argument"));
                }
                args.push(self.value()?);
            }
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                Some(Token::Close) => break,
                Some(t) => {
                    let t = describe(t);
                    return self.fail(format!("{module}: expected ',' or ')', found {t}"));
                }
                None => return self.fail(format!("{module}: expected ')'")),
            }
        }
        self.expect(Token::Close, "')'")?;
        Ok(Call {
            module,
            line,
            args,
            kwargs,
        })
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Ident(s) => format!("'{s}'"),
        Token::Number(s) => format!("'{s}'"),
        Token::Str(s) => format!("'{s}'"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Comma => "','".into(),
        Token::Equals => "'='".into(),
    }
}

fn parse_number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Int(i));
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::Float)
}

/// `1x28x28` (also `1×28×28`) → [1, 28, 28].
fn parse_dims(text: &str) -> Option<[usize; 3]> {
    let parts: Vec<usize> = text
        .split(['x', 'X', '×'])
        .map(|p| p.trim().parse::<usize>().ok().filter(|&v| v > 0))
        .collect::<Option<Vec<_>>>()?;
    parts.try_into().ok()
}

/// Reads a whole model file into statements. `origin` names the file in messages.
pub fn parse_statements(origin: &str, text: &str) -> Result<Vec<Statement>, ModelError> {
    let mut statements = Vec::new();
    for (line, parts) in logical_lines(origin, text)? {
        let joined: String = parts.iter().map(|(_, s)| s.trim()).collect::<Vec<_>>().join(" ");
        if let Some(rest) = joined
            .strip_prefix("input")
            .filter(|r| r.starts_with(char::is_whitespace))
        {
            let dims = parse_dims(rest.trim()).ok_or_else(|| {
                ModelError::at(
                    origin,
                    line,
                    format!(
                        "'input {}': expected the input size as CxHxW, e.g. input 1x28x28",
                        rest.trim()
                    ),
                )
            })?;
            statements.push(Statement::Input { dims, line });
            continue;
        }
        let tokens = tokenize(origin, &parts)?;
        let last_line = tokens.last().map_or(line, |(l, _)| *l);
        let mut r = Reader {
            origin,
            tokens,
            pos: 0,
            last_line,
        };
        let name = match r.next() {
            Some(Token::Ident(n)) => n.strip_prefix("self.").unwrap_or(&n).to_string(),
            _ => {
                return Err(ModelError::at(
                    origin,
                    line,
                    "expected 'input CxHxW' or a statement 'name = Module(…)'",
                ));
            }
        };
        if name.is_empty()
            || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(ModelError::at(
                origin,
                line,
                format!("'{name}' is not a valid module name (letters, digits and _)"),
            ));
        }
        r.expect(Token::Equals, &format!("'=' after '{name}'"))?;
        let call_line = r.line();
        let call = match r.next() {
            Some(Token::Ident(m)) => r.call(m, call_line)?,
            _ => {
                return Err(ModelError::at(
                    origin,
                    call_line,
                    format!("{name}: expected a module such as Conv2d(…) after '='"),
                ));
            }
        };
        if r.pos < r.tokens.len() {
            return r.fail(format!("{name}: unexpected text after the module's closing ')'"));
        }
        statements.push(Statement::Assign { name, line, call });
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_calls_over_several_lines_with_comments() {
        let text = "# a model\ninput 1x28x28\nblock = nn.Sequential(  # first\n    Conv2d(1, 8, 3, padding=1, bias=False),\n    ReLU(inplace=True),\n    Dropout(p=0.05))\nfc = Linear(8, 10)\n";
        let s = parse_statements("m", text).unwrap();
        assert_eq!(
            s[0],
            Statement::Input {
                dims: [1, 28, 28],
                line: 2
            }
        );
        let Statement::Assign { name, line, call } = &s[1] else {
            panic!()
        };
        assert_eq!((name.as_str(), *line, call.module.as_str()), ("block", 3, "Sequential"));
        let Value::Call(conv) = &call.args[0] else { panic!() };
        assert_eq!((conv.module.as_str(), conv.line), ("Conv2d", 4));
        assert_eq!(conv.args, [Value::Int(1), Value::Int(8), Value::Int(3)]);
        assert_eq!(
            conv.kwargs,
            [("padding".into(), Value::Int(1)), ("bias".into(), Value::Bool(false))]
        );
        let Value::Call(drop) = &call.args[2] else { panic!() };
        assert_eq!(drop.kwargs, [("p".into(), Value::Float(0.05))]);
        assert!(matches!(&s[2], Statement::Assign { line: 7, .. }));
    }

    #[test]
    fn unbalanced_parentheses_name_the_line() {
        let e = parse_statements("m.model", "input 1x28x28\na = Conv2d(1, 2, 3\nb = ReLU()\n").unwrap_err();
        assert_eq!(e.to_string(), "m.model:2: unbalanced parentheses: 1 '(' never closed");
        let e = parse_statements("m.model", "input 1x28x28\na = ReLU())\n").unwrap_err();
        assert!(e.to_string().starts_with("m.model:2: unbalanced"), "{e}");
    }

    #[test]
    fn numbers_tuples_and_strings() {
        let s = parse_statements(
            "m",
            "x = BatchNorm2d(4, eps=1e-3, momentum=.2)\ny = Conv2d(1, 2, (3, 3), padding='same')",
        )
        .unwrap();
        let Statement::Assign { call, .. } = &s[0] else {
            panic!()
        };
        assert_eq!(call.kwargs[0].1, Value::Float(1e-3));
        assert_eq!(call.kwargs[1].1, Value::Float(0.2));
        let Statement::Assign { call, .. } = &s[1] else {
            panic!()
        };
        assert_eq!(call.args[2], Value::Tuple(vec![Value::Int(3), Value::Int(3)]));
        assert_eq!(call.kwargs[0].1, Value::Str("same".into()));
    }
}
