package policy

import (
	"encoding/json"
	"strings"
	"time"
)

// Duration is a time.Duration written in JSON as Go duration text ("8h").
type Duration struct{ time.Duration }

// String writes d as Go duration text without zero units, as people write it: "8h", "90m"
// is "1h30m", never "8h0m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalJSON writes d as String does ("8h"); UnmarshalJSON reads it back.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads Go duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	d.Duration = v
	return err
}
