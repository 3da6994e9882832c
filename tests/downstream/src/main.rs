//! A neighbour of feishu-helpdesk: its own `reqwest` clients, built before and after a helpdesk
//! client, call a plain `http://` server on loopback. Exits non-zero (or panics) if the
//! library's features broke them.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers every connection with one fixed HTTP/1.1 response.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nneighbour")
                .await;
        });
    }
}

async fn get(client: &reqwest::Client, url: &str) -> String {
    let answer = client
        .get(url)
        .send()
        .await
        .expect("the neighbour's request succeeds");
    assert_eq!(answer.status(), 200);
    answer.text().await.expect("a body")
}

#[tokio::main]
async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let url = format!("http://{}/", listener.local_addr().expect("an address"));
    tokio::spawn(serve(listener));

    // The neighbour's clients first, before anything of the library has run.
    let first = reqwest::Client::new();
    assert_eq!(get(&first, &url).await, "neighbour");
    let built = reqwest::Client::builder()
        .build()
        .expect("the neighbour's builder builds");
    assert_eq!(get(&built, &url).await, "neighbour");

    // A helpdesk client (its own HTTP client, with the library's TLS), then the neighbour again.
    let helpdesk = feishu_helpdesk::Client::builder()
        .tenant_access_token("t-downstream")
        .helpdesk_credentials("7180000000000000001", "ht-downstream")
        .build()
        .expect("a helpdesk client");
    assert_eq!(helpdesk.base_url(), feishu_helpdesk::FEISHU_BASE_URL);
    let after = reqwest::Client::new();
    assert_eq!(get(&after, &url).await, "neighbour");
    println!("downstream: the neighbour's reqwest clients work beside feishu-helpdesk");
}
