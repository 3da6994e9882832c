//! One WebSocket connection: the handshake, then the serving loop between what the client
//! sends and what the stand-in queues for it, and the half-open socket that answers nothing.

use std::sync::Arc;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::WebSocketStream;

use super::state::{Command, Inner};

/// One WebSocket connection: the handshake, then what the client sends and what the stand-in
/// queues for it, until either side ends it.
pub(super) async fn serve(inner: Arc<Inner>, stream: TcpStream) {
    // Frames go out as they are written: with Nagle's algorithm a small push could wait for
    // the client's delayed ACK (40 ms on Linux).
    let _ = stream.set_nodelay(true);
    let mut admitted = false;
    // The signature of the WebSocket layer's handshake callback.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| match inner.refusal(request) {
        Some(refusal) => Err(refusal),
        None => {
            admitted = true;
            Ok(response)
        }
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    if !admitted {
        return;
    }
    let (commands, mut queue) = mpsc::unbounded_channel();
    let connection = inner.register(commands);
    let stalled = loop {
        tokio::select! {
            // A command first: what a test asked for (half-open, say) applies to what the
            // client sent after it.
            biased;
            command = queue.recv() => match command {
                Some(Command::Send(message)) => {
                    if socket.send(message).await.is_err() {
                        break false;
                    }
                }
                Some(Command::Close(frame)) => {
                    // Nothing more is sent (the connection is no longer live); what the
                    // client sends until the end, its close frame in return, is recorded.
                    if socket.close(Some(frame)).await.is_ok() {
                        while let Some(Ok(message)) = socket.next().await {
                            inner.received(connection, message);
                        }
                    }
                    break false;
                }
                Some(Command::Stall) => break true,
                Some(Command::Drop { reset }) => {
                    if reset {
                        let _ = socket.get_ref().set_zero_linger();
                    }
                    break false;
                }
                None => break false,
            },
            message = socket.next() => match message {
                Some(Ok(message)) => {
                    if let Some(answer) = inner.received(connection, message) {
                        if socket.send(answer).await.is_err() {
                            break false;
                        }
                    }
                }
                Some(Err(_)) | None => break false,
            },
        }
    };
    if stalled {
        swallow(socket, &mut queue).await;
    }
    inner.unregister(connection);
}

/// A half-open connection: reads and discards whatever arrives, below the WebSocket layer so
/// that nothing is answered, until the client ends the socket or the stand-in drops it.
async fn swallow(socket: WebSocketStream<TcpStream>, queue: &mut mpsc::UnboundedReceiver<Command>) {
    let stream = socket.into_inner();
    let mut buffer = vec![0; 16 * 1024];
    loop {
        tokio::select! {
            biased;
            command = queue.recv() => match command {
                Some(Command::Drop { reset }) => {
                    if reset {
                        let _ = stream.set_zero_linger();
                    }
                    return;
                }
                Some(_) => {}
                None => return,
            },
            readable = stream.readable() => {
                if readable.is_err() {
                    return;
                }
                match stream.try_read(&mut buffer) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        }
    }
}
