//! Just enough of PostgreSQL's wire protocol (v3) for this app, over
//! std::net (wasi:sockets): start-up, the password, MD5 and SCRAM-SHA-256
//! sign-ins, and simple queries whose rows come back as text.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Where and as whom to connect, from a `postgres://user:pass@host:port/db` URL.
pub struct Target {
    user: String,
    password: String,
    address: String,
    database: String,
}

impl Target {
    pub fn parse(url: &str) -> Option<Target> {
        let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"))?;
        let (credentials, rest) = rest.rsplit_once('@')?;
        let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
        let (address, database) = rest.split_once('/')?;
        let database = database.split('?').next().unwrap_or_default();
        let address = if address.contains(':') { address.to_string() } else { format!("{address}:5432") };
        Some(Target { user: decode(user), password: decode(password), address, database: decode(database) })
    }
}

/// Percent-decoding, for user names and passwords in URLs.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct Connection {
    stream: TcpStream,
}

fn failure(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

impl Connection {
    pub fn connect(target: &Target) -> io::Result<Connection> {
        let mut connection = Connection { stream: TcpStream::connect(&target.address)? };
        let mut startup = Vec::new();
        startup.extend_from_slice(&196608u32.to_be_bytes());
        for (key, value) in [("user", &target.user), ("database", &target.database)] {
            startup.extend_from_slice(key.as_bytes());
            startup.push(0);
            startup.extend_from_slice(value.as_bytes());
            startup.push(0);
        }
        startup.push(0);
        let mut message = ((startup.len() + 4) as u32).to_be_bytes().to_vec();
        message.extend_from_slice(&startup);
        connection.stream.write_all(&message)?;
        connection.sign_in(target)?;
        Ok(connection)
    }

    fn send(&mut self, kind: u8, body: &[u8]) -> io::Result<()> {
        let mut message = vec![kind];
        message.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        message.extend_from_slice(body);
        self.stream.write_all(&message)
    }

    fn receive(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let mut head = [0u8; 5];
        self.stream.read_exact(&mut head)?;
        let length = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; length.saturating_sub(4)];
        self.stream.read_exact(&mut body)?;
        if head[0] == b'E' {
            return Err(failure(error_message(&body)));
        }
        Ok((head[0], body))
    }

    /// Answers the server's authentication requests until it is ready.
    fn sign_in(&mut self, target: &Target) -> io::Result<()> {
        let mut scram: Option<Scram> = None;
        loop {
            let (kind, body) = self.receive()?;
            if kind == b'Z' {
                return Ok(());
            }
            if kind != b'R' {
                continue;
            }
            let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            match code {
                0 => {}
                3 => self.send(b'p', &nul_terminated(&target.password))?,
                5 => {
                    let inner = format!("{:x}", md5::Md5::digest(format!("{}{}", target.password, target.user)));
                    let mut outer = md5::Md5::new();
                    outer.update(inner.as_bytes());
                    outer.update(&body[4..8]);
                    self.send(b'p', &nul_terminated(&format!("md5{:x}", outer.finalize())))?;
                }
                10 => {
                    let state = Scram::new();
                    let first = state.client_first();
                    let mut message = nul_terminated("SCRAM-SHA-256");
                    message.extend_from_slice(&(first.len() as u32).to_be_bytes());
                    message.extend_from_slice(first.as_bytes());
                    self.send(b'p', &message)?;
                    scram = Some(state);
                }
                11 => {
                    let state = scram.as_mut().ok_or_else(|| failure("SCRAM continued before it began"))?;
                    let reply = state.client_final(&target.password, &String::from_utf8_lossy(&body[4..]))?;
                    self.send(b'p', reply.as_bytes())?;
                }
                12 => {}
                other => return Err(failure(format!("unsupported authentication method {other}"))),
            }
        }
    }

    /// Runs `sql` (one or more statements); the rows, each column as text.
    pub fn query(&mut self, sql: &str) -> io::Result<Vec<Vec<Option<String>>>> {
        self.send(b'Q', &nul_terminated(sql))?;
        let mut rows = Vec::new();
        let mut failed = None;
        loop {
            match self.receive() {
                Ok((b'D', body)) => rows.push(data_row(&body)),
                Ok((b'Z', _)) => break,
                Ok(_) => {}
                // The server still ends with ReadyForQuery after an error.
                Err(e) if failed.is_none() && e.kind() == io::ErrorKind::Other => failed = Some(e),
                Err(e) => return Err(e),
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.send(b'X', &[]);
    }
}

fn nul_terminated(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

fn data_row(body: &[u8]) -> Vec<Option<String>> {
    let columns = u16::from_be_bytes([body[0], body[1]]) as usize;
    let mut at = 2;
    let mut row = Vec::with_capacity(columns);
    for _ in 0..columns {
        let length = i32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
        at += 4;
        if length < 0 {
            row.push(None);
        } else {
            let end = at + length as usize;
            row.push(Some(String::from_utf8_lossy(&body[at..end]).into_owned()));
            at = end;
        }
    }
    row
}

/// The `M` (message) field of an ErrorResponse.
fn error_message(body: &[u8]) -> String {
    body.split(|b| *b == 0)
        .find_map(|field| field.strip_prefix(b"M").map(|m| String::from_utf8_lossy(m).into_owned()))
        .unwrap_or_else(|| "PostgreSQL error".into())
}

/// SCRAM-SHA-256 (RFC 5802/7677), the client's half.
struct Scram {
    nonce: String,
    first_bare: String,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl Scram {
    fn new() -> Scram {
        // 18 random bytes from the host (wasi:random), through std's hasher seeds.
        let mut random = Vec::new();
        for _ in 0..3 {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(0);
            random.extend_from_slice(&hasher.finish().to_be_bytes());
        }
        let nonce = BASE64.encode(&random[..18]);
        Scram { first_bare: format!("n=,r={nonce}"), nonce }
    }

    fn client_first(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    fn client_final(&self, password: &str, server_first: &str) -> io::Result<String> {
        let field = |name: &str| {
            server_first.split(',').find_map(|part| part.strip_prefix(name)).map(str::to_string)
        };
        let nonce = field("r=").filter(|n| n.starts_with(&self.nonce)).ok_or_else(|| failure("bad SCRAM nonce"))?;
        let salt = BASE64.decode(field("s=").unwrap_or_default()).map_err(|_| failure("bad SCRAM salt"))?;
        let iterations: u32 = field("i=").and_then(|i| i.parse().ok()).ok_or_else(|| failure("bad SCRAM count"))?;
        // PBKDF2-HMAC-SHA-256 with one block.
        let mut block = salt.clone();
        block.extend_from_slice(&1u32.to_be_bytes());
        let mut u = hmac(password.as_bytes(), &block);
        let mut salted = u.clone();
        for _ in 1..iterations {
            u = hmac(password.as_bytes(), &u);
            salted.iter_mut().zip(&u).for_each(|(s, x)| *s ^= x);
        }
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }
}
