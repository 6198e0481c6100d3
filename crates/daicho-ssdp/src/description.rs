//! A UPnP device description (`rootDesc.xml` and kin): the root device and
//! its embedded devices, each with maker, model, serial number, UDN and
//! services. Read with quick-xml's pull parser, bounded in depth and count;
//! anything beyond the bounds is ignored, never an error.

use quick_xml::Reader;
use quick_xml::events::Event;

const MAX_DEVICES: usize = 64;
const MAX_SERVICES: usize = 64;
const MAX_DEPTH: usize = 32;
/// A text node read at most (bytes) before it is cleaned and capped.
const MAX_TEXT_BYTES: usize = daicho_report::text::MAX_NAME * 4;

/// One device of a description, root first, then embedded ones in document
/// order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    /// 0 for the root device, 1 for its embedded devices, ...
    pub depth: u8,
    pub device_type: Option<String>,
    pub friendly_name: Option<String>,
    pub manufacturer: Option<String>,
    pub model_name: Option<String>,
    pub model_number: Option<String>,
    pub serial_number: Option<String>,
    pub udn: Option<String>,
    pub presentation_url: Option<String>,
    pub services: Vec<Service>,
}

/// One service of a device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub service_type: String,
    pub control_url: String,
}

impl Device {
    /// An Internet gateway (router) by its device type.
    pub fn is_gateway(&self) -> bool {
        self.device_type
            .as_deref()
            .is_some_and(|t| t.contains(":device:InternetGatewayDevice:"))
    }
}

/// The devices of a description, root first. Malformed XML gives what was
/// read before the fault.
pub fn parse(xml: &[u8]) -> Vec<Device> {
    // Text is not trimmed per event: an entity splits it, and the spaces
    // around it belong to the name. Each value is trimmed once, at its end.
    let mut reader = Reader::from_reader(xml);
    let mut devices: Vec<Device> = Vec::new();
    // Indices into `devices` of the open <device> elements.
    let mut open: Vec<usize> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut buffer = Vec::new();
    // A read error ends the document: what was read before it stays.
    while let Ok(event) = reader.read_event_into(&mut buffer) {
        match event {
            Event::Start(start) => {
                if path.len() >= MAX_DEPTH {
                    break;
                }
                let name = start.local_name().as_ref().to_owned();
                match name.as_str() {
                    "device" if devices.len() < MAX_DEVICES => {
                        devices.push(Device {
                            depth: u8::try_from(open.len()).unwrap_or(u8::MAX),
                            ..Device::default()
                        });
                        open.push(devices.len() - 1);
                    }
                    "service" => {
                        if let Some(&current) = open.last()
                            && path.last().is_some_and(|p| p == "serviceList")
                            && devices[current].services.len() < MAX_SERVICES
                        {
                            devices[current].services.push(Service::default());
                        }
                    }
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => append(&mut text, &t.xml10_content()),
            Event::CData(t) => append(&mut text, &t),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = resolved {
                    append(&mut text, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else { break };
                let parent = path.last().map(String::as_str);
                let value = || clean(&text);
                if let Some(&current) = open.last() {
                    let device = &mut devices[current];
                    match (parent, name.as_str()) {
                        (Some("device"), field) => {
                            let slot = match field {
                                "deviceType" => Some(&mut device.device_type),
                                "friendlyName" => Some(&mut device.friendly_name),
                                "manufacturer" => Some(&mut device.manufacturer),
                                "modelName" => Some(&mut device.model_name),
                                "modelNumber" => Some(&mut device.model_number),
                                "serialNumber" => Some(&mut device.serial_number),
                                "UDN" => Some(&mut device.udn),
                                "presentationURL" => Some(&mut device.presentation_url),
                                _ => None,
                            };
                            if let Some(slot) = slot {
                                *slot = Some(value()).filter(|v| !v.is_empty());
                            }
                        }
                        (Some("service"), "serviceType") => {
                            if let Some(service) = device.services.last_mut() {
                                service.service_type = value();
                            }
                        }
                        (Some("service"), "controlURL") => {
                            if let Some(service) = device.services.last_mut() {
                                service.control_url = value();
                            }
                        }
                        _ => {}
                    }
                }
                if name == "device" {
                    open.pop();
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    devices
}

fn append(text: &mut String, more: &str) {
    if text.len() < MAX_TEXT_BYTES {
        text.push_str(more);
    }
}

fn clean(text: &str) -> String {
    daicho_report::text::clean_text(text, daicho_report::text::MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head of miniupnpd 2.3.1's rootDesc.xml in the lab.
    const MINIUPNPD: &str = r#"<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337"><specVersion><major>1</major><minor>1</minor></specVersion><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><friendlyName>MR-LTE 4G Router</friendlyName><manufacturer>ExampleNet</manufacturer><modelName>MR-LTE</modelName><modelNumber>MR-4G-200</modelNumber><serialNumber>SN-LTE-00</serialNumber><UDN>uuid:3d3cec3a-8cf0-11e0-98ee-001a6baa6b01</UDN><serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType><UDN>uuid:3d3cec3a-8cf0-11e0-98ee-001a6baa6b02</UDN><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><controlURL>/ctl/IPConn</controlURL></service></serviceList></device></deviceList></device></deviceList><presentationURL>http://198.18.9.1/</presentationURL></device></root>"#;

    #[test]
    fn a_gateway_with_embedded_devices() {
        let devices = parse(MINIUPNPD.as_bytes());
        assert_eq!(devices.len(), 3);
        let root = &devices[0];
        assert!(root.is_gateway());
        assert_eq!(root.depth, 0);
        assert_eq!(root.friendly_name.as_deref(), Some("MR-LTE 4G Router"));
        assert_eq!(root.model_number.as_deref(), Some("MR-4G-200"));
        assert_eq!(
            root.udn.as_deref(),
            Some("uuid:3d3cec3a-8cf0-11e0-98ee-001a6baa6b01")
        );
        assert_eq!(root.presentation_url.as_deref(), Some("http://198.18.9.1/"));
        assert_eq!(root.services[0].control_url, "/ctl/L3F");
        let connection = &devices[2];
        assert_eq!(connection.depth, 2);
        assert_eq!(
            connection.services[0].service_type,
            "urn:schemas-upnp-org:service:WANIPConnection:2"
        );
    }

    #[test]
    fn entities_japanese_names_and_broken_documents() {
        let xml = "<root><device><friendlyName>受付 &amp; 会計 &#x3C;1F&#62;</friendlyName></device></root>";
        assert_eq!(
            parse(xml.as_bytes())[0].friendly_name.as_deref(),
            Some("受付 & 会計 <1F>")
        );
        let cut = &MINIUPNPD.as_bytes()[..400];
        let devices = parse(cut);
        assert_eq!(
            devices[0].friendly_name.as_deref(),
            Some("MR-LTE 4G Router")
        );
        let deep = "<device>".repeat(10_000);
        assert!(parse(deep.as_bytes()).len() <= MAX_DEVICES);
        assert!(parse(b"\xff\xfe<<>>").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..500)) {
            let devices = parse(&bytes);
            proptest::prop_assert!(devices.len() <= MAX_DEVICES);
        }
    }
}
