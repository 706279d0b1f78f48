package ui

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// maxForm caps sign-in form bodies.
const maxForm = 16 << 10

type loginData struct {
	Username string
	Next     string
	Error    string
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if signedIn(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "login", "Sign in", loginData{Next: next})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		u.render(w, r, http.StatusBadRequest, "login", "Sign in", loginData{Next: "/", Error: "The form could not be read."})
		return
	}
	data := loginData{Username: r.PostForm.Get("username"), Next: localPath(r.PostForm.Get("next"))}
	ctx := r.Context()
	req := service.RequestFrom(ctx)
	user, err := u.id.Login(ctx, data.Username, r.PostForm.Get("password"), req.ClientAddr)
	if err != nil {
		var e *webnet.Error
		status := http.StatusInternalServerError
		data.Error = "Sign-in failed; try again."
		if errors.As(err, &e) {
			switch e.Code {
			case webnet.EInvalid:
				status, data.Error = http.StatusBadRequest, "Wrong username or password."
			case webnet.ERateLimited:
				status, data.Error = http.StatusTooManyRequests, e.Message
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
		}
		if status == http.StatusInternalServerError {
			u.log.ErrorContext(ctx, "sign-in", "request_id", req.ID, "err", err)
		}
		u.render(w, r, status, "login", "Sign in", data)
		return
	}
	value, sess, err := u.id.StartSession(ctx, user)
	if err != nil {
		u.log.ErrorContext(ctx, "start session", "request_id", req.ID, "err", err)
		u.render(w, r, http.StatusInternalServerError, "login", "Sign in", loginData{Next: data.Next, Error: "Sign-in failed; try again."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: service.SessionCookie, Value: value, Path: "/", HttpOnly: true,
		Secure: req.Secure, SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt,
		MaxAge: int(time.Until(sess.ExpiresAt).Seconds())})
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if signedIn(r) {
		if err := u.id.EndSession(r.Context()); err != nil && webnet.ErrorCode(err) != webnet.EUnauthenticated {
			u.log.ErrorContext(r.Context(), "sign-out", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: service.SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: service.RequestFrom(r.Context()).Secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login?notice=signed-out", http.StatusSeeOther)
}
