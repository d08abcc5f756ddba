package sqlite_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestEveryConnectionSyncsEachCommit: the writer (and the readers, one of which may be the last
// to close and checkpoint) run with synchronous=FULL (2) on a real file, so a commit returns only
// after the WAL is on the disk.
func TestEveryConnectionSyncsEachCommit(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, r, err := sqlite.Pragmas(t.Context(), s, "synchronous")
	if err != nil {
		t.Fatal(err)
	}
	if w != "2" || r != "2" {
		t.Errorf("PRAGMA synchronous = %s on the writer, %s on a reader; want 2 (FULL) on both", w, r)
	}
	if mode, _, err := sqlite.Pragmas(t.Context(), s, "journal_mode"); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestAcknowledgedSignInSurvivesPowerCut puts the database on a real ext4 file system on a loop
// device, completes a passkey sign-in, and the moment the store acknowledges it takes the disk
// as a power cut leaves it: a copy of the loop device's backing file, which holds what the file
// system wrote to its disk and not what still sat in the page cache. The copy is then mounted
// (the journal replays, as at the next boot) and opened: the session, the event, the sign count
// and the used challenge must all be there, so the captured answer cannot be replayed.
//
// It needs root (mount, loop devices), as the project's test machines have.
func TestAcknowledgedSignInSurvivesPowerCut(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, "mnt")
	mustRun(t, "truncate", "-s", "64M", img)
	mustRun(t, "mkfs.ext4", "-q", "-F", img)
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	// commit=600: the journal's own 5-second commit would otherwise flush the data now and then,
	// and the test would pass or fail by timing rather than by what the store syncs.
	mount(t, img, mnt, "loop,commit=600")

	s, err := sqlite.Open(ctx, filepath.Join(mnt, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Now().UTC().Truncate(time.Microsecond)
	u := &latchkey.User{UserPrincipalName: "alice@example.com", DisplayName: "Alice", UserType: latchkey.UserTypeMember, Enabled: true}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := &latchkey.Passkey{UserID: u.ID, CredentialID: []byte("credential-1"), PublicKey: []byte{1}, Kind: latchkey.KindSynced, SignCount: 4}
	if err := s.CreatePasskey(ctx, p); err != nil {
		t.Fatal(err)
	}
	// What happened before the sign-in is on the disk, as on a server that has run for a while.
	syscall.Sync()

	c := &latchkey.PasskeySignIn{
		ChallengeID: latchkey.NewID(), ChallengeExpiresAt: at.Add(5 * time.Minute),
		PasskeyID: p.ID, SignCount: 5, UsedAt: at, Platform: "Windows",
		Session: &latchkey.Session{ID: latchkey.NewID(), UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, PasskeyID: p.ID,
			CreatedAt: at, AuthenticatedAt: at, ExpiresAt: at.Add(8 * time.Hour)},
		Event: &latchkey.SignInEvent{UserID: u.ID, UPN: u.UserPrincipalName, Method: latchkey.MethodPasskey, PasskeyID: p.ID,
			PasskeyKind: latchkey.KindSynced, Result: latchkey.SignInSuccess, CreatedAt: at},
	}
	if err := s.CompletePasskeySignIn(ctx, c); err != nil {
		t.Fatalf("CompletePasskeySignIn: %v", err)
	}
	// The answer has gone out: the power fails now.
	cut := filepath.Join(dir, "after-power-cut.img")
	copyFile(t, img, cut)

	mnt2 := filepath.Join(dir, "mnt2")
	if err := os.Mkdir(mnt2, 0o700); err != nil {
		t.Fatal(err)
	}
	mount(t, cut, mnt2, "loop")
	s2, err := sqlite.Open(ctx, filepath.Join(mnt2, "latchkey.db"))
	if err != nil {
		t.Fatalf("open the database after the power cut: %v", err)
	}
	defer s2.Close()
	if _, err := s2.FindSession(ctx, c.Session.ID, at); err != nil {
		t.Errorf("the acknowledged sign-in's session after the power cut: %v", err)
	}
	if got, err := s2.FindPasskeyByID(ctx, p.ID); err != nil || got.SignCount != 5 {
		t.Errorf("sign count after the power cut = %d, %v; want 5", signCount(got), err)
	}
	events, err := s2.ListSignIns(ctx, u.ID, 10)
	if err != nil || len(events) != 1 || events[0].ID != c.Event.ID {
		t.Errorf("sign-in events after the power cut = %d, %v; want the acknowledged one", len(events), err)
	}
	// The captured answer, replayed: its challenge must be recorded as used.
	replay := *c
	replay.SignCount = 6
	replay.Session = &latchkey.Session{ID: latchkey.NewID(), UserID: u.ID, Methods: []string{latchkey.MethodPasskey}, CreatedAt: at, AuthenticatedAt: at, ExpiresAt: at.Add(time.Hour)}
	replay.Event = &latchkey.SignInEvent{UserID: u.ID, Method: latchkey.MethodPasskey, Result: latchkey.SignInSuccess}
	if err := s2.CompletePasskeySignIn(ctx, &replay); !errors.Is(err, latchkey.ErrChallengeUsed) {
		t.Errorf("replaying the acknowledged answer after the power cut: %v, want %v", err, latchkey.ErrChallengeUsed)
	}
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// mount mounts the file system image img at dir until the test ends.
func mount(t *testing.T, img, dir, options string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", options, img, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount %s (this test needs root and loop devices): %v\n%s", img, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func signCount(p *latchkey.Passkey) uint32 {
	if p == nil {
		return 0
	}
	return p.SignCount
}
