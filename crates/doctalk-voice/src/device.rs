//! A cpal stream on a thread of its own: streams are not `Send` on every platform, so the thread
//! that opens one keeps it until the handle is dropped.

use std::sync::mpsc;

use cpal::traits::{DeviceTrait, HostTrait};

/// The default output (or input) device, its name and its preferred configuration.
pub(crate) fn default_device(
    output: bool,
) -> Result<(cpal::Device, String, cpal::SupportedStreamConfig), String> {
    let host = cpal::default_host();
    let device = if output {
        host.default_output_device().ok_or("no sound output device")?
    } else {
        host.default_input_device()
            .ok_or("no microphone (sound input device)")?
    };
    let name = device.name().unwrap_or_else(|_| "default".into());
    let supported = if output {
        device.default_output_config()
    } else {
        device.default_input_config()
    }
    .map_err(|e| format!("{name}: {e}"))?;
    Ok((device, name, supported))
}

/// Keeps the device thread (and its stream) alive; dropping it closes the stream.
pub(crate) struct DeviceThread {
    _keepalive: mpsc::Sender<()>,
}

/// Runs `open` on a new thread named `name`; returns the device's sample rate and name once the
/// stream plays, or why it could not be opened.
pub(crate) fn spawn<S: 'static>(
    name: &str,
    open: impl FnOnce() -> Result<(S, u32, String), String> + Send + 'static,
) -> Result<(DeviceThread, u32, String), String> {
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(u32, String), String>>();
    let (keep_tx, keep_rx) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || match open() {
            Ok((stream, rate, device)) => {
                let _ = ready_tx.send(Ok((rate, device)));
                // Returns when the DeviceThread is dropped.
                let _ = keep_rx.recv();
                drop(stream);
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        })
        .map_err(|e| format!("cannot start the {name} thread: {e}"))?;
    let (rate, device) = ready_rx
        .recv()
        .map_err(|_| format!("the {name} thread ended"))??;
    Ok((DeviceThread { _keepalive: keep_tx }, rate, device))
}
