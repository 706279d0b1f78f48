package webnet

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Customer is a tenant: every device, group and job belongs to exactly one.
type Customer struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a person (or a robot) who signs in. PasswordHash is never serialised.
type User struct {
	ID           int64      `json:"id"`
	Username     string     `json:"username"`
	Email        string     `json:"email"`
	PasswordHash string     `json:"-"`
	IsActive     bool       `json:"is_active"`
	IsStaff      bool       `json:"is_staff"`
	IsSuperuser  bool       `json:"is_superuser"`
	CreatedAt    time.Time  `json:"created_at"`
	LastLoginAt  *time.Time `json:"last_login_at"`
}

// Role is a user's standing in one customer (design.md §2).
type Role string

// The four membership roles.
const (
	RoleMember   Role = "member"
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleMember, RoleViewer, RoleOperator, RoleAdmin:
		return true
	}
	return false
}

// Membership ties a user to a customer with a role.
type Membership struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user"`
	CustomerID int64     `json:"customer"`
	Role       Role      `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
}

// Group is an auth group of users inside one customer.
type Group struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
}

// Token is an API token. Only the SHA-256 of its key is stored; the key itself is shown once,
// when the token is created. Prefix (the key's first characters) lets a user tell tokens apart.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// Session is a browser sign-in. Its id is the SHA-256 of the cookie value.
type Session struct {
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry, whatever the activity
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9@.+_-]{1,150}$`)

// ValidateUsername checks a username: 1-150 letters, digits and @.+-_ (as Django allows).
func ValidateUsername(username string) error {
	if !usernameRE.MatchString(username) {
		return Invalid("Invalid username.", map[string]string{
			"username": "Use 1 to 150 letters, digits and @ . + - _ only.",
		})
	}
	return nil
}

// ValidateEmail checks an optional e-mail address loosely: something@something, no spaces.
func ValidateEmail(email string) error {
	if email == "" {
		return nil
	}
	at := strings.IndexByte(email, '@')
	if len(email) > 254 || at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>") {
		return Invalid("Invalid e-mail address.", map[string]string{"email": "Enter a valid e-mail address."})
	}
	return nil
}

// MinPasswordLength is the shortest password webnet accepts.
const MinPasswordLength = 10

// ValidatePassword checks a new password's strength (length only: NIST SP 800-63B).
func ValidatePassword(password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return Invalid("Password too short.", map[string]string{
			"password": fmt.Sprintf("Use at least %d characters.", MinPasswordLength),
		})
	}
	if len(password) > 1024 {
		return Invalid("Password too long.", map[string]string{"password": "Use at most 1024 bytes."})
	}
	return nil
}
