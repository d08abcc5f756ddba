package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/passkey/passkeytest"
)

func TestCLIMDSImportAndShow(t *testing.T) {
	dir := t.TempDir()
	d := "--data=" + filepath.Join(dir, "data")
	mds := passkeytest.NewMDS(t)
	blobPath, rootPath := mds.WriteFiles(t, dir)

	out, errOut, code := run(t, "mds", "show", d)
	if code != 0 || !strings.Contains(out, "No metadata BLOB imported") {
		t.Fatalf("show before import: %d %q %q", code, out, errOut)
	}

	// Against the FIDO Alliance root the test BLOB does not verify: refused, nothing stored.
	out, errOut, code = run(t, "mds", "import", blobPath, d)
	if code != 1 || !strings.Contains(errOut, "The metadata BLOB could not be verified.") ||
		!strings.Contains(errOut, "mds_invalid: the BLOB is not a JWT whose signature chain verifies to the FIDO Alliance MDS root") ||
		!strings.Contains(errOut, "certificate signed by unknown authority") {
		t.Fatalf("import without test root: %d %q %q", code, out, errOut)
	}
	// Against a root that did not sign it: refused too.
	otherPath := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(otherPath, passkeytest.NewRoot(t, "Other Root").PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = run(t, "mds", "import", blobPath, "--test-root", otherPath, d); code != 1 || !strings.Contains(errOut, `test root "CN=Other Root`) {
		t.Fatalf("import with the wrong root: %d %q", code, errOut)
	}
	// A garbled file.
	garbled := filepath.Join(dir, "garbled.jwt")
	if err := os.WriteFile(garbled, []byte("not a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = run(t, "mds", "import", garbled, "--test-root", rootPath, d); code != 1 || !strings.Contains(errOut, "mds_invalid") {
		t.Fatalf("import garbled: %d %q", code, errOut)
	}
	if out, _, _ = run(t, "mds", "show", d); !strings.Contains(out, "No metadata BLOB imported") {
		t.Fatalf("a refused BLOB was stored: %q", out)
	}
	// Usage errors exit 2.
	if _, _, code = run(t, "mds", "import", d); code != 2 {
		t.Fatalf("import without file: %d", code)
	}
	if _, _, code = run(t, "mds", "import", filepath.Join(dir, "missing.jwt"), d); code != 1 {
		t.Fatalf("import of a missing file: %d", code)
	}

	next := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	out, errOut, code = run(t, "mds", "import", blobPath, "--test-root", rootPath, d)
	if code != 0 || !strings.Contains(out, "Imported metadata BLOB number 7, next update "+next+", 2 entries, verified against a test root.") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	out, errOut, code = run(t, "mds", "import", blobPath, "--test-root", rootPath, d, "--json")
	var got struct {
		Number     int
		NextUpdate time.Time
		Entries    int
		TestRoot   bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Number != 7 || got.Entries != 2 || !got.TestRoot || got.NextUpdate.Format(time.DateOnly) != next {
		t.Fatalf("import --json: %d %q %q", code, out, errOut)
	}

	out, errOut, code = run(t, "mds", "show", d)
	if code != 0 || !strings.Contains(out, "Metadata BLOB number 7, next update "+next+", 2 entries") {
		t.Fatalf("show: %d %q %q", code, out, errOut)
	}
	out, _, code = run(t, "mds", "show", d, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Number != 7 || got.Entries != 2 {
		t.Fatalf("show --json: %d %q", code, out)
	}
}
