// Package totpcode is the authenticator app (TOTP, RFC 6238) adapter on github.com/pquerna/otp:
// it makes secrets, with what a person's app needs to add one (the otpauth:// URL, its QR code,
// the secret to type), and checks codes. Codes have 6 digits and change every 30 seconds; a code
// is accepted one step early or late (clock drift), and each step's code works once.
package totpcode

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Issuer names Latchkey in people's authenticator apps.
const Issuer = "Latchkey"

var opts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func errInvalid(detail string) error {
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, "totp_invalid",
		"That code isn't right. Enter the 6-digit code your authenticator app shows now for Latchkey.", "%s", detail)
}

// ErrReused refuses a code for time step step, or an earlier one, after one was accepted.
func ErrReused(step int64) error {
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, "totp_reused",
		"That code was already used. Wait until your authenticator app shows a new code, then enter it.",
		"the code for time step %d (or a later one) was already accepted; each code works once", step)
}

// Check returns the time step whose code code is, within one step of now, and refuses a code
// for lastStep or earlier as a replay.
func Check(secret, code string, lastStep int64, now time.Time) (int64, error) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, latchkey.Errorf(latchkey.EINVALID, "totp_invalid",
			"Enter the 6-digit code your authenticator app shows for Latchkey.", "the code is not 6 digits")
	}
	current := now.Unix() / 30
	matched := int64(-1)
	for step := current - 1; step <= current+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0).UTC(), opts)
		if err != nil {
			return 0, fmt.Errorf("totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step
		}
	}
	if matched < 0 {
		return 0, errInvalid(fmt.Sprintf("the code matches none of the time steps %d to %d", current-1, current+1))
	}
	if matched <= lastStep {
		return 0, ErrReused(matched)
	}
	return matched, nil
}

// Enrollment is what a person needs to add Latchkey to their authenticator app.
type Enrollment struct {
	// URL is the otpauth:// URL that the QR code holds.
	URL string
	// Secret is the base32 secret, and SecretGroups the same in groups of four for typing.
	Secret       string
	SecretGroups string
	// QRCode is a PNG of the QR code as a data: URI.
	QRCode string
}

// NewSecret returns a new base32 secret for accountName's app.
func NewSecret(accountName string) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: accountName})
	if err != nil {
		return "", fmt.Errorf("generate totp secret: %w", err)
	}
	return key.Secret(), nil
}

// EnrollmentOf returns what accountName's app needs to add the base32 secret.
func EnrollmentOf(accountName, secret string) (*Enrollment, error) {
	raw, err := b32.DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("decode totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: accountName, Secret: raw})
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	secret = key.Secret()
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return &Enrollment{URL: key.URL(), Secret: secret, SecretGroups: strings.Join(groups, " "),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}
