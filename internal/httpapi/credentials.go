package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerCredentials adds /api/credentials/: tenant administration, secrets write-only.
func (a *API) registerCredentials(mux *http.ServeMux) {
	a.handle(mux, "GET /api/credentials/", signedIn, a.listCredentials)
	a.handle(mux, "POST /api/credentials/", signedIn, a.createCredential)
	a.handle(mux, "GET /api/credentials/{id}/", signedIn, a.getCredential)
	a.handle(mux, "PATCH /api/credentials/{id}/", signedIn, a.updateCredential)
	a.handle(mux, "DELETE /api/credentials/{id}/", signedIn, a.deleteCredential)
}

// listCredentials is GET /api/credentials/?customer=.
func (a *API) listCredentials(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	var customer *int64
	if v := r.URL.Query().Get("customer"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return webnet.Invalid("Invalid filter.", map[string]string{"customer": "Must be a positive id."})
		}
		customer = &id
	}
	creds, total, err := a.core.ListCredentials(r.Context(), customer, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, creds))
	return nil
}

// createCredential is POST /api/credentials/. A body that is JSON but does not fit (unknown
// field, wrong type) is refused by the service after its authorization checks, when the
// customer can still be read from it: a caller who may not manage that customer's credentials
// gets 404 or 403, never a hint about the body.
func (a *API) createCredential(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decode(w, r, a.maxBody, &raw); err != nil {
		return err
	}
	defer clear(raw) // it holds the plaintext secrets
	var in service.CredentialInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var target struct {
			Customer *int64 `json:"customer"`
		}
		in = service.CredentialInput{BodyErr: decodeError(err, a.maxBody)}
		// Best effort: without a readable customer the body error stands alone.
		if json.Unmarshal(raw, &target) == nil {
			in.Customer = target.Customer
		}
	}
	v, err := a.core.CreateCredential(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) getCredential(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := a.core.GetCredential(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// updateCredential is PATCH /api/credentials/{id}/. Any body error goes to the service, which
// reports it only after the visibility and permission checks.
func (a *API) updateCredential(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var p service.CredentialPatch
	if err := decode(w, r, a.maxBody, &p); err != nil {
		p = service.CredentialPatch{BodyErr: err}
	}
	v, err := a.core.UpdateCredential(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) deleteCredential(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.DeleteCredential(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
