//! A peer-to-peer link between two nodes that a test can cut or slow: a TCP forwarder on
//! 127.0.0.1 in front of one node's peer-to-peer port, dialled by exactly one other node.
//! Cutting it closes the connections it carries and refuses new ones until it passes again;
//! slowing it holds every chunk for a delay before forwarding it. Each link runs on its own
//! thread and runtime, so a test's blocking calls never starve it.
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What a link does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// Forwards at once.
    Pass,
    /// Closes what it carries and refuses new connections.
    Cut,
    /// Forwards each chunk after this many milliseconds.
    Delay(u64),
}

/// A running link; stops when dropped.
pub struct FaultLink {
    /// The port to dial instead of the node's own.
    pub port: u16,
    mode: watch::Sender<LinkMode>,
}

impl FaultLink {
    /// A link in front of `upstream_port` on 127.0.0.1, passing traffic.
    pub fn start(upstream_port: u16) -> FaultLink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind link");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (mode, modes) = watch::channel(LinkMode::Pass);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("link runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                let mut closed = modes.clone();
                let accept = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else {
                            continue;
                        };
                        if *modes.borrow() == LinkMode::Cut {
                            drop(sock);
                            continue;
                        }
                        tokio::spawn(carry(sock, upstream_port, modes.clone()));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    // The sender went with the FaultLink.
                    _ = async { while closed.changed().await.is_ok() {} } => {}
                }
            });
        });
        FaultLink { port, mode }
    }

    /// Sets what the link does from now on.
    pub fn set(&self, mode: LinkMode) {
        self.mode.send_replace(mode);
    }
}

/// Carries one connection both ways until either side closes or the link is cut.
async fn carry(client: TcpStream, upstream_port: u16, modes: watch::Receiver<LinkMode>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::select! {
        _ = pump(cr, sw, modes.clone()) => {}
        _ = pump(sr, cw, modes.clone()) => {}
    }
}

/// Forwards `from` to `to` as the link's mode says; returns when either ends or it is cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut modes: watch::Receiver<LinkMode>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if *modes.borrow_and_update() == LinkMode::Cut {
            return;
        }
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = modes.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        let mode = *modes.borrow();
        match mode {
            LinkMode::Cut => return,
            LinkMode::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            LinkMode::Pass => {}
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
