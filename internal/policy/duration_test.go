package policy

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDurationAsPeopleWriteIt: a sign-in frequency is written without zero units ("8h", not
// "8h0m0s") and reads back to the same duration.
func TestDurationAsPeopleWriteIt(t *testing.T) {
	for d, want := range map[time.Duration]string{
		8 * time.Hour: "8h", 90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 720 * time.Hour: "720h",
		45 * time.Second: "45s", time.Hour + 10*time.Minute: "1h10m", time.Hour + time.Second: "1h0m1s",
	} {
		b, err := json.Marshal(Duration{d})
		if err != nil || string(b) != `"`+want+`"` {
			t.Errorf("%v: %s %v; want %q", d, b, err, want)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back.Duration != d {
			t.Errorf("%s read back as %v (%v)", b, back.Duration, err)
		}
	}
}
