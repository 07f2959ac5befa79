//! A webhook that never answers (`scripts/bench-collector.sh`): a TCP listener on
//! loopback that accepts every connection, reads what arrives and never replies, so
//! each forwarding request of the collector runs into its `--forward-timeout`.
//!
//! Prints `hanging-sink listening on http://ADDR`, then one `accepted N` line per
//! connection (the benchmark counts them to show the sink was really tried).

use std::io::{Read, Write};
use std::net::TcpListener;

fn main() {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = match TcpListener::bind(&listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hanging-sink: cannot listen on {listen}: {e}");
            std::process::exit(2);
        }
    };
    let addr = listener.local_addr().expect("local address");
    println!("hanging-sink listening on http://{addr}");
    let _ = std::io::stdout().flush();
    for (n, stream) in listener.incoming().enumerate() {
        let Ok(mut stream) = stream else { continue };
        println!("accepted {}", n + 1);
        let _ = std::io::stdout().flush();
        // Drain the request and hold the connection until the client gives up.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        });
    }
}
