package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestCLIUserAddQueuesOnboarding: `user add` with a start date and a manager stores them and
// queues the person's onboarding mail for the start date's 09:00 (UTC by default).
func TestCLIUserAddQueuesOnboarding(t *testing.T) {
	data := t.TempDir()
	runOKIn(t, data, "user", "add", "grace@example.com", "--mail", "grace@mail.example.com")
	day := time.Now().UTC().AddDate(0, 0, 10).Format(time.DateOnly)
	runOKIn(t, data, "user", "add", "ada@example.com", "--start-date", day, "--manager", "grace@example.com",
		"--department", "Research", "--personal-mail", "ada@home.example.net")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ada, err := st.FindUserByUPN(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	grace, err := st.FindUserByUPN(ctx, "grace@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ada.StartDate != day || ada.ManagerID != grace.ID || ada.Department != "Research" || ada.PersonalMail != "ada@home.example.net" {
		t.Errorf("stored %+v", ada)
	}
	items, err := st.ListMail(ctx, latchkey.MailFilter{SubjectID: ada.ID})
	if err != nil || len(items) != 1 || items[0].Kind != "onboarding" || items[0].NotBefore.Format(time.RFC3339) != day+"T09:00:00Z" {
		t.Fatalf("queued %+v, %v; want one onboarding mail for %s 09:00 UTC", items, err, day)
	}
}
