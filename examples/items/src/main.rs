//! An example app that uses a bound database: a wasi:cli program serving
//! HTTP on `$PORT` (std::net over wasi:sockets) that keeps a list of items
//! in the PostgreSQL database of `DATABASE_URL` — what `wf bind-service`
//! of a `postgresql` instance gives it.
//!
//! - `GET /`            the items, as a JSON array of strings
//! - `POST /items`      adds the request body as an item
//!
//! The database is reached over the network, so the app's space needs a
//! security group allowing the server's address and port.

mod postgres;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use postgres::{Connection, Target};

fn main() {
    let port = std::env::var("PORT").expect("PORT is set");
    let listener = TcpListener::bind(format!("0.0.0.0:{port}")).expect("listening on $PORT");
    match database().and_then(|mut db| db.query(CREATE_TABLE)) {
        Ok(_) => println!("the items table is ready"),
        Err(e) => eprintln!("the database is not ready yet: {e}"),
    }
    println!("listening on {port}");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => handle(stream),
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)";

fn database() -> std::io::Result<Connection> {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| std::io::Error::other("no DATABASE_URL: bind a postgresql service and restart"))?;
    let target = Target::parse(&url).ok_or_else(|| std::io::Error::other("DATABASE_URL is not a postgres:// URL"))?;
    Connection::connect(&target)
}

/// A string literal for SQL (standard_conforming_strings is on by default).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''").replace('\0', ""))
}

fn respond(stream: &TcpStream, status: &str, body: &str) {
    let _ = write!(
        &*stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn handle(stream: TcpStream) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0usize;
    let mut header = String::new();
    while reader.read_line(&mut header).map(|n| n > 2).unwrap_or(false) {
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        header.clear();
    }
    let mut body = vec![0u8; length.min(64 * 1024)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
    let answer = match (method, path) {
        ("GET", "/") => database().and_then(|mut db| db.query("SELECT name FROM items ORDER BY id")).map(|rows| {
            let names: Vec<String> = rows.into_iter().filter_map(|row| row.into_iter().next().flatten()).collect();
            ("200 OK", serde_json::to_string(&names).unwrap_or_default())
        }),
        ("POST", "/items") => {
            let name = String::from_utf8_lossy(&body).trim().to_string();
            let sql = format!("{CREATE_TABLE}; INSERT INTO items (name) VALUES ({})", literal(&name));
            database().and_then(|mut db| db.query(&sql)).map(|_| ("201 Created", serde_json::json!(name).to_string()))
        }
        _ => Ok(("404 Not Found", "\"no such path\"".to_string())),
    };
    match answer {
        Ok((status, body)) => respond(&stream, status, &body),
        Err(e) => {
            eprintln!("{method} {path}: {e}");
            respond(&stream, "503 Service Unavailable", &serde_json::json!({"error": e.to_string()}).to_string());
        }
    }
}
