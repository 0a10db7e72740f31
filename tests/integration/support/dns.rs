//! A small authoritative DNS server for tests (UDP, built on hickory-proto):
//! it answers TXT, A and AAAA queries from a table the test fills (a name
//! with only AAAA records answers A queries with no answer), NXDOMAIN for every
//! other name, and nothing at all while told to be silent (timeouts).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// The value [`DnsServer::refuse`] stores: the name is answered REFUSED.
const REFUSED: &str = "\0refused";
/// The prefix of an address [`DnsServer::set_addresses`] stores.
const ADDRESS: &str = "\0ip:";

/// A running test DNS server.
pub struct DnsServer {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
    silent: Arc<AtomicBool>,
    queries: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DnsServer {
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let silent = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(AtomicUsize::new(0));
        let (table, quiet, count) = (records.clone(), silent.clone(), queries.clone());
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                if quiet.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(request) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut response = Message::response(request.metadata.id, request.metadata.op_code);
                response.metadata.message_type = MessageType::Response;
                response.metadata.authoritative = true;
                response.metadata.recursion_desired = request.metadata.recursion_desired;
                response.metadata.recursion_available = true;
                let mut found = false;
                for query in &request.queries {
                    response.add_query(query.clone());
                    let name = query
                        .name()
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase();
                    let values = table.lock().unwrap().get(&name).cloned();
                    if values.as_deref() == Some(&[REFUSED.to_owned()][..]) {
                        response.metadata.response_code = ResponseCode::Refused;
                        found = true;
                    } else if let Some(values) = values {
                        found = true;
                        for ip in values.iter().filter_map(|v| v.strip_prefix(ADDRESS)) {
                            let rdata = match (query.query_type(), ip.parse()) {
                                (RecordType::A, Ok(std::net::IpAddr::V4(v4))) => RData::A(A(v4)),
                                (RecordType::AAAA, Ok(std::net::IpAddr::V6(v6))) => {
                                    RData::AAAA(AAAA(v6))
                                }
                                _ => continue,
                            };
                            response.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                rdata,
                            ));
                        }
                        if query.query_type() == RecordType::TXT {
                            for value in values.into_iter().filter(|v| !v.starts_with(ADDRESS)) {
                                response.add_answer(Record::from_rdata(
                                    query.name().clone(),
                                    60,
                                    RData::TXT(TXT::new(vec![value])),
                                ));
                            }
                        }
                    }
                }
                if !found {
                    response.metadata.response_code = ResponseCode::NXDomain;
                }
                if let Ok(bytes) = response.to_vec() {
                    let _ = socket.send_to(&bytes, from).await;
                }
            }
        });
        Self {
            addr,
            records,
            silent,
            queries,
            task,
        }
    }

    /// Publishes TXT `values` at `name` (replacing what it held).
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        self.records.lock().unwrap().insert(
            name.to_ascii_lowercase(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
    }

    /// Publishes A and AAAA records at `name` (replacing what it held).
    pub fn set_addresses(&self, name: &str, ips: &[std::net::IpAddr]) {
        self.records.lock().unwrap().insert(
            name.to_ascii_lowercase(),
            ips.iter().map(|ip| format!("{ADDRESS}{ip}")).collect(),
        );
    }

    /// Answers REFUSED for `name` (a name server's failure).
    pub fn refuse(&self, name: &str) {
        self.set_txt(name, &[REFUSED]);
    }

    /// Removes the records at `name`.
    pub fn remove(&self, name: &str) {
        self.records
            .lock()
            .unwrap()
            .remove(&name.to_ascii_lowercase());
    }

    /// Stops answering (every query then times out), or answers again.
    pub fn set_silent(&self, silent: bool) {
        self.silent.store(silent, Ordering::SeqCst);
    }

    /// Queries received so far.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}
