//! Network helpers: a proxy a test can cut, and free ports.

/// A loopback TCP proxy that a test can cut and restore, to make a server unreachable for one
/// test without touching the server itself.
pub struct TcpProxy {
    address: std::net::SocketAddr,
    state: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<Vec<std::net::TcpStream>>,
    stopped: std::sync::atomic::AtomicBool,
}

impl TcpProxy {
    pub fn start(target: String) -> TcpProxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let state = std::sync::Arc::new(ProxyState::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            for incoming in listener.incoming() {
                if shared.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = incoming else { continue };
                if shared.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(upstream) = std::net::TcpStream::connect(&target) else { continue };
                let pipes = [(client.try_clone(), upstream.try_clone()), (upstream.try_clone(), client.try_clone())];
                for pipe in pipes {
                    if let (Ok(mut from), Ok(mut to)) = pipe {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
                shared.open.lock().unwrap().extend([client, upstream]);
            }
        });
        TcpProxy { address, state }
    }

    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Refuses new connections and breaks the open ones.
    pub fn cut(&self) {
        self.state.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.state.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.state.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees `stopped`.
        let _ = std::net::TcpStream::connect(self.address);
    }
}

/// A loopback port that was free a moment ago (to start a server on later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
