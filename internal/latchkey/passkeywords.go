package latchkey

// Description says in plain words, without jargon, what kind of passkey p is.
func (p *Passkey) Description() string {
	if p.Kind == KindSynced {
		return "Synced passkey: saved in your password manager and available on your other devices."
	}
	for _, t := range p.Transports {
		switch t {
		case "usb", "nfc", "ble", "smart-card":
			return "Security key: a physical key you plug in or tap. It never leaves the key."
		}
	}
	return "Device-bound passkey: stays on this one device and never leaves it."
}
