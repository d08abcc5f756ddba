package policyadmin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestChangeMethodsPolicyRetriedAfterChangeMeanwhile: when another node stores a change between
// this change's read and write, the change is made again on the new policy, and both stay.
func TestChangeMethodsPolicyRetriedAfterChangeMeanwhile(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	calls := 0
	got, err := svc.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, func(p *policy.MethodsPolicy) error {
		calls++
		p.RegistrationCampaign.SnoozesAllowed = 7
		if calls > 1 {
			return nil
		}
		// Another node turns the registration campaign off while this change is being made.
		_, err := svc.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, func(o *policy.MethodsPolicy) error {
			o.RegistrationCampaign.State = policy.StateDisabled
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("change made %d times, want 2", calls)
	}
	stored, err := svc.MethodsPolicy(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.RegistrationCampaign{State: policy.StateDisabled, SnoozesAllowed: 7, SecondPasskey: policy.DefaultSecondPasskey()}
	if stored.RegistrationCampaign != want || got.RegistrationCampaign != want {
		t.Errorf("stored %+v, returned %+v; want both edits, %+v", stored.RegistrationCampaign, got.RegistrationCampaign, want)
	}
}

// twoNodes returns two services on two stores opened separately on one SQLite file, as two
// Latchkey nodes would run.
func twoNodes(t *testing.T) (*Service, *Service) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	var nodes [2]*Service
	for i := range nodes {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		nodes[i] = New(signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil))))
	}
	return nodes[0], nodes[1]
}

// both runs a and b at once, each n times, and fails the test on any error.
func both(t *testing.T, n int, a, b func(i int) error) {
	t.Helper()
	start := make(chan struct{})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for j, f := range []func(int) error{a, b} {
		wg.Go(func() {
			<-start
			for i := range n {
				if err := f(i); err != nil {
					errs[j] = fmt.Errorf("change %d: %w", i, err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", j, err)
		}
	}
}

// TestTwoNodesCAChangesAreNotLost: two nodes on one database add conditional access policies and
// named locations at the same time: every one is stored.
func TestTwoNodesCAChangesAreNotLost(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	const n = 10
	add := func(svc *Service, node string) func(int) error {
		return func(i int) error {
			p := prmfaAllApps(policy.CAStateDisabled)
			p.Name = fmt.Sprintf("Policy %s%d", node, i)
			if _, _, err := svc.CreateCAPolicy(ctx, latchkey.SystemActor, p, 0); err != nil {
				return err
			}
			_, err := svc.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: fmt.Sprintf("Site %s%d", node, i), CIDRs: []string{"198.51.100.0/24"}})
			return err
		}
	}
	both(t, n, add(a, "A"), add(b, "B"))
	for _, svc := range []*Service{a, b} {
		cfg, err := svc.ConditionalAccess(ctx, latchkey.SystemActor)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Policies) != 2*n || len(cfg.NamedLocations) != 2*n {
			t.Errorf("%d policies and %d locations stored, want %d of each", len(cfg.Policies), len(cfg.NamedLocations), 2*n)
		}
	}
}

// TestTwoNodesMethodsPolicyChangesAreNotLost: two nodes on one database add passkey profiles and
// change the temporary access pass settings at the same time: every profile is stored, and so
// are the pass settings.
func TestTwoNodesMethodsPolicyChangesAreNotLost(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	empty := &latchkey.Group{DisplayName: "Nobody"}
	if err := a.Store.CreateGroup(ctx, empty); err != nil {
		t.Fatal(err)
	}
	const n = 10
	addProfile := func(svc *Service, node string) func(int) error {
		return func(i int) error {
			_, err := svc.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, func(p *policy.MethodsPolicy) error {
				p.Passkey.Profiles = append(p.Passkey.Profiles, policy.PasskeyProfile{ID: fmt.Sprintf("%s%d", node, i),
					Name: fmt.Sprintf("Profile %s%d", node, i), TargetGroupIDs: []string{empty.ID},
					PasskeyTypes: policy.PasskeyTypesBoth, AttestationEnforcement: policy.AttestationEnforcementDisabled})
				return nil
			})
			return err
		}
	}
	tap := signin.DefaultTAPPolicy()
	both(t, n, addProfile(a, "A"), func(i int) error {
		if err := addProfile(b, "B")(i); err != nil {
			return err
		}
		tap.DefaultLength = signin.MinTAPLength + i%2
		return b.SetTAPPolicy(ctx, latchkey.SystemActor, tap)
	})
	p, err := a.MethodsPolicy(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := a.TAPPolicy(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	want := len(policy.DefaultMethodsPolicy().Passkey.Profiles) + 2*n
	if len(p.Passkey.Profiles) != want {
		t.Errorf("%d passkey profiles stored, want %d", len(p.Passkey.Profiles), want)
	}
	if got := stored; got != tap {
		t.Errorf("pass settings %+v, want the last set, %+v", got, tap)
	}
}
