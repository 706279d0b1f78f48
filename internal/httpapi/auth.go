package httpapi

import (
	"net/http"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// obtainToken is POST /api/auth/token/ {username, password} → {"token": key}.
func (a *API) obtainToken(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	u, err := a.id.Login(r.Context(), body.Username, body.Password, service.RequestFrom(r.Context()).ClientAddr)
	if err != nil {
		return err
	}
	key, _, err := a.id.IssueLoginToken(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": key})
	return nil
}

// me is GET /api/me/.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	me, err := a.id.Me(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, me)
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	tokens, total, err := a.id.ListTokens(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, tokens))
	return nil
}

// createdToken is a new token with its key, shown this once.
type createdToken struct {
	webnet.Token
	Key string `json:"key"`
}

// createToken is POST /api/tokens/ {name?, expires_at? (RFC 3339) | expires_in? (seconds)}.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var body service.NewToken
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	key, t, err := a.id.CreateToken(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createdToken{Token: *t, Key: key})
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.id.DeleteToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
