//! The CC as a client of service brokers, speaking the Open Service Broker
//! API (CF v2's successor to the service gateway): it reads a broker's
//! catalog ([`client`]) and checks it ([`catalog`]) before storing its
//! services and plans. Every failure is CF's error for it, with the
//! broker's own words where it gave any; nothing is stored from a catalog
//! that fails.

pub mod catalog;
pub mod client;
