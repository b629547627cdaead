package command

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

// Password length bounds; bcrypt reads at most 72 bytes.
const (
	minPasswordLen = 8
	maxPasswordLen = 72
)

// ErrEmailTaken refuses a registration with an email already in use.
var ErrEmailTaken error = errkind.New(errkind.Conflict, "email is already registered")

// Credentials keep the password hashes, outside the events (they would
// outlive any change of password there).
type Credentials interface {
	// Claim stores the hash of a new user's password; ErrEmailTaken when
	// the email is in use.
	Claim(ctx context.Context, userID, email string, hash []byte) error
	// ClaimAll claims many at once, in one statement, and says which it
	// claimed: the others' emails (or ids) are in use.
	ClaimAll(ctx context.Context, claims []Claim) ([]bool, error)
	// Release forgets the claim of a registration that failed.
	Release(ctx context.Context, userID string) error
	// Replace sets a user's hash and ends all their sessions at once, and
	// returns the hash it replaced; employee.ErrNotFound for a user who has none.
	Replace(ctx context.Context, userID string, hash []byte) (old []byte, err error)
	// Restore puts old back, unless the hash is no longer replaced.
	Restore(ctx context.Context, userID string, old, replaced []byte) error
	// Forget deletes a user's credentials and ends all their sessions: the
	// login of an erased employee is gone.
	Forget(ctx context.Context, userID string) error
	// AdminExists reports whether the email is taken or an admin exists.
	AdminExists(ctx context.Context, email string) (bool, error)
	// Taken returns which of emails are in use, lower-cased: emails compare
	// without case.
	Taken(ctx context.Context, emails []string) (map[string]bool, error)
}

// Claim is the credentials of a new user.
type Claim struct {
	UserID, Email string
	Hash          []byte
}

// CheckPassword says what is wrong with a new password, or "".
func CheckPassword(p string) string {
	switch {
	case len(p) < minPasswordLen:
		return fmt.Sprintf("must be at least %d characters", minPasswordLen)
	case len(p) > maxPasswordLen:
		return fmt.Sprintf("must be at most %d bytes", maxPasswordLen)
	}
	return ""
}

// passwords hash passwords at a cost and store them in credentials.
type passwords struct {
	credentials Credentials
	cost        int // bcrypt's
}

// hash returns the hash of a new password, refusing a malformed one as
// field.
func (p passwords) hash(password, field string) ([]byte, error) {
	if msg := CheckPassword(password); msg != "" {
		return nil, errkind.InvalidField("invalid input", field, msg)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// set replaces userID's password, which ends every session of theirs, then
// records the change as actor's; the event failing puts the old password back.
func (p passwords) set(ctx context.Context, store EventStore, o Origin, actor, userID, password string, reset bool, now Now) error {
	hash, err := p.hash(password, "new_password")
	if err != nil {
		return err
	}
	old, err := p.credentials.Replace(ctx, userID, hash)
	if err != nil {
		return err
	}
	_, err = update(ctx, store, o, actor, employee.Stream(userID), func(history []any) ([]any, error) {
		return employee.Decide(employee.Replay(history), employee.ChangePassword{Reset: reset}, now())
	})
	if err != nil {
		if undoErr := p.credentials.Restore(context.WithoutCancel(ctx), userID, old, hash); undoErr != nil {
			err = errors.Join(err, undoErr)
		}
	}
	return err
}
