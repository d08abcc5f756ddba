package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestOIDCRefreshOfTurnedOffAccount: a refresh token that outlived its account being turned off
// (turning off through the directory deletes them; a store changed otherwise may keep one) is
// refused with a sentence saying the account is turned off.
func TestOIDCRefreshOfTurnedOffAccount(t *testing.T) {
	e := startOIDC(t)
	cfg := e.oidcApp(t, "Web app", false)
	tok := e.tokens(t, cfg, e.browser(t))
	u, err := e.s.Store.FindUserByUPN(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Store.UpdateUser(context.Background(), u.ID, func(u *latchkey.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err = refresh(cfg, tok.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "Your account is turned off") {
		t.Errorf("refresh of a turned-off account: %v, want invalid_grant saying the account is turned off", err)
	}
}
