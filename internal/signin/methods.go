package signin

import (
	"bytes"
	"context"
	"sync"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// mdsCache keeps the last loaded FIDO metadata with the stored version it came from.
type mdsCache struct {
	mu         sync.Mutex
	mdsVersion []byte
	mds        *passkey.Metadata
}

// MethodsPolicy returns the stored authentication methods policy, or the default.
func (s *Service) MethodsPolicy(ctx context.Context) (policy.MethodsPolicy, error) {
	raw, err := s.Store.GetSetting(ctx, MethodsPolicyKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		raw = nil
	} else if err != nil {
		return policy.MethodsPolicy{}, err
	}
	return s.MethodsPolicyFrom(raw)
}

// policyUser returns what the policy needs to know about u: their groups and whether a guest.
func (s *Service) policyUser(ctx context.Context, u *latchkey.User) (policy.User, error) {
	groups, err := s.Store.ListUserGroups(ctx, u.ID)
	if err != nil {
		return policy.User{}, err
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	return policy.UserOf(u, ids), nil
}

// metadata returns the imported FIDO metadata (nil when none). Each call reads only the small
// version key; the BLOB is read and verified again only after an import. Metadata that no longer
// loads (its next-update date has passed) counts as none, with a warning, rather than failing
// every ceremony: attestation then reads "untrusted" until a newer BLOB is imported.
func (s *Service) metadata(ctx context.Context) (*passkey.Metadata, error) {
	version, err := s.Store.GetSetting(ctx, passkey.MDSVersionKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return s.metadataAt(ctx, version)
}

// metadataAt returns the metadata of the stored version (nil: none imported), from the cache
// while the version is unchanged.
func (s *Service) metadataAt(ctx context.Context, version []byte) (*passkey.Metadata, error) {
	if version == nil {
		return nil, nil
	}
	c := &s.mdsCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mdsVersion != nil && bytes.Equal(c.mdsVersion, version) {
		return c.mds, nil
	}
	md, err := passkey.LoadMetadata(ctx, s.Store, s.now())
	if err != nil {
		if !latchkey.IsKind(err, latchkey.EINVALID) {
			return nil, err
		}
		s.Logger.WarnContext(ctx, "imported FIDO metadata cannot be used; import a newer BLOB with `latchkey mds import`", "err", err)
		md = nil
	}
	c.mdsVersion, c.mds = version, md
	return md, nil
}
