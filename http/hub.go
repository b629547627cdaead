package http

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/olahol/melody"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/projections"
)

// Hub writes each user's notifications to their WebSocket sessions. A
// session opened with after=<seq> first gets what it missed from the read
// model, then the live ones; a notification is never sent twice to a session
// because each remembers the last seq it was sent.
type Hub struct {
	m       *melody.Melody
	q       Queries
	log     *slog.Logger
	metrics *metrics

	mu     sync.RWMutex
	byUser map[string]map[*melody.Session]*wsSession
}

// wsSession is the delivery state of one session.
type wsSession struct {
	user    string
	session string      // the login session of the token it was opened with
	dropped atomic.Bool // closed for being slow

	mu        sync.Mutex
	replaying bool                           // live notifications wait in queued meanwhile
	queued    []projections.NotificationView // received during the replay
	lastSeq   int64
}

// Session keys.
const keySession = "session"

// wsBuffer is how many frames may wait for a slow client (beyond what the
// socket buffers hold) before the session is closed; a client that falls this
// far behind reconnects with after.
const wsBuffer = 16

// wsReadBuffer holds a control frame (at most 125 bytes of payload) at once.
const wsReadBuffer = 512

func newHub(q Queries, origins []string, log *slog.Logger, m *metrics) *Hub {
	h := &Hub{m: melody.New(), q: q, log: log, metrics: m, byUser: map[string]map[*melody.Session]*wsSession{}}
	h.m.Config.MessageBufferSize = wsBuffer
	h.m.Upgrader.CheckOrigin = checkOrigin(origins)
	// Sessions are many and mostly idle, and clients send nothing but control
	// frames: a small read buffer of its own lets net/http's 4 KiB one go, and
	// a write buffer is taken from the pool only while a frame is written.
	h.m.Upgrader.ReadBufferSize, h.m.Upgrader.WriteBufferSize = wsReadBuffer, 0
	h.m.Upgrader.WriteBufferPool = &sync.Pool{}
	h.m.HandleConnect(h.connected)
	h.m.HandleDisconnect(h.disconnected)
	h.m.HandleError(func(s *melody.Session, err error) {
		// Closing through melody would queue a close frame behind the full
		// buffer (and report the full buffer again): drop the connection.
		if errors.Is(err, melody.ErrMessageBufferFull) && sessionOf(s).dropped.CompareAndSwap(false, true) {
			h.log.Warn("closing slow websocket client", "user", sessionOf(s).user)
			_ = s.WebsocketConnection().Close()
		}
	})
	return h
}

// checkOrigin admits clients without an Origin header (not browsers), the
// configured origins, and otherwise only the same origin.
func checkOrigin(allowed []string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		for _, a := range allowed {
			if a == "*" || strings.EqualFold(a, origin) {
				return true
			}
		}
		if len(allowed) > 0 {
			return false
		}
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}

func sessionOf(s *melody.Session) *wsSession {
	v, _ := s.Get(keySession)
	st, _ := v.(*wsSession)
	if st == nil {
		return &wsSession{}
	}
	return st
}

// handleConnect godoc
//
//	@Summary		Live notifications
//	@Description	Upgrades to a WebSocket that pushes each of the caller's new notifications as one JSON text frame (a NotificationJSON). With after, every notification with a greater seq is sent first. The token comes in the token parameter or the Authorization header.
//	@Tags			notifications
//	@Param			token	query	string	false	"access token"
//	@Param			after	query	int		false	"last seq the client has"
//	@Success		101		{object}	NotificationJSON
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem	"origin not allowed"
//	@Router			/ws/notifications [get]
func (h *Hub) handleConnect(store EventStore, tok tokens, people *recent[employee.Employee]) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := c.QueryParam("token")
		if raw == "" {
			var err error
			if raw, err = bearer(c); err != nil {
				return err
			}
		}
		p, err := loadPrincipal(c.Request().Context(), store, tok, people, raw)
		if err != nil {
			return err
		}
		if !access.Allowed(p.Employee, access.NotificationRead, access.Self) {
			return errForbidden
		}
		st := &wsSession{user: p.EmployeeID, session: p.sessionID}
		if s := c.QueryParam("after"); s != "" {
			after, err := strconv.ParseInt(s, 10, 64)
			if err != nil || after < 0 {
				return badRequest("invalid query parameters", map[string]string{"after": "must be a whole number >= 0"})
			}
			st.lastSeq, st.replaying = after, true
		}
		r := c.Request()
		if !h.m.Upgrader.CheckOrigin(r) {
			return errForbidden
		}
		if !websocket.IsWebSocketUpgrade(r) || r.Header.Get("Sec-WebSocket-Version") != "13" || r.Header.Get("Sec-WebSocket-Key") == "" {
			return badRequest("not a websocket handshake", nil)
		}
		return h.detach(c, st)
	}
}

// detach takes the connection over from net/http and runs the session on a
// goroutine of its own, so the request's goroutine returns: its stack, the
// server's buffers of the connection and the request with its context are
// not held for as long as the session lives. The handshake was checked above,
// so the upgrade fails only when the connection does.
func (h *Hub) detach(c echo.Context, st *wsSession) error {
	r := c.Request()
	conn, brw, err := http.NewResponseController(c.Response().Writer).Hijack()
	if err != nil {
		return err
	}
	// What the upgrade and melody's Session.Request need, and no more (its
	// context is the background one).
	req := &http.Request{Method: r.Method, Host: r.Host, URL: &url.URL{Path: r.URL.Path}, Header: http.Header{}}
	for _, k := range []string{"Connection", "Upgrade", "Origin", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol"} {
		if v, ok := r.Header[k]; ok {
			req.Header[k] = v
		}
	}
	c.Response().Status = http.StatusSwitchingProtocols // for the request's log and metrics
	w := &hijacked{conn: conn, brw: brw, header: http.Header{}}
	go func() {
		if err := h.m.HandleRequestWithKeys(w, req, map[string]any{keySession: st}); err != nil {
			w.abort()
		}
	}()
	return nil
}

// hijacked is the ResponseWriter of a connection already taken from net/http.
type hijacked struct {
	conn net.Conn
	// brw holds net/http's buffers of the connection until the upgrade takes
	// the connection; the session keeps none of them.
	brw    *bufio.ReadWriter
	header http.Header
}

func (w *hijacked) Header() http.Header { return w.header }

func (w *hijacked) WriteHeader(status int) {
	if w.brw == nil {
		return
	}
	fmt.Fprintf(w.brw, "HTTP/1.1 %d %s\r\nConnection: close\r\n", status, http.StatusText(status))
	_ = w.header.Write(w.brw)
	_, _ = w.brw.WriteString("\r\n")
}

func (w *hijacked) Write(b []byte) (int, error) {
	if w.brw == nil {
		return 0, http.ErrHijacked
	}
	return w.brw.Write(b)
}

func (w *hijacked) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	brw := w.brw
	w.brw = nil
	return w.conn, brw, nil
}

// abort ends a connection whose upgrade failed, after the error response the
// upgrader wrote, if any.
func (w *hijacked) abort() {
	if w.brw != nil {
		_ = w.brw.Flush()
	}
	_ = w.conn.Close()
}

func (h *Hub) connected(s *melody.Session) {
	st := sessionOf(s)
	h.mu.Lock()
	if h.byUser[st.user] == nil {
		h.byUser[st.user] = map[*melody.Session]*wsSession{}
	}
	h.byUser[st.user][s] = st
	h.mu.Unlock()
	h.metrics.wsSessions.Inc()
	if st.replaying {
		go h.replay(s, st)
	}
}

func (h *Hub) disconnected(s *melody.Session) {
	st := sessionOf(s)
	h.mu.Lock()
	delete(h.byUser[st.user], s)
	if len(h.byUser[st.user]) == 0 {
		delete(h.byUser, st.user)
	}
	h.mu.Unlock()
	h.metrics.wsSessions.Dec()
}

// replay sends what the session missed, then what arrived meanwhile.
func (h *Hub) replay(s *melody.Session, st *wsSession) {
	const page = 500
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	for {
		st.mu.Lock()
		after := st.lastSeq
		st.mu.Unlock()
		items, err := h.q.Notifications(ctx, st.user, false, after, page)
		if err != nil {
			h.log.Error("replay notifications", "user", st.user, "err", err)
			_ = s.CloseWithMsg(melody.FormatCloseMessage(websocket.CloseInternalServerErr, "replay failed: reconnect"))
			return
		}
		st.mu.Lock()
		for _, n := range items {
			h.send(s, st, n)
		}
		if len(items) < page {
			for _, n := range st.queued {
				h.send(s, st, n)
			}
			st.queued, st.replaying = nil, false
			st.mu.Unlock()
			return
		}
		st.mu.Unlock()
	}
}

// send writes n unless the session already has it; st.mu is held.
func (h *Hub) send(s *melody.Session, st *wsSession, n projections.NotificationView) {
	if n.Seq <= st.lastSeq {
		return
	}
	frame, err := json.Marshal(notificationJSON(n))
	if err != nil {
		h.log.Error("encode notification", "id", n.ID, "err", err)
		return
	}
	st.lastSeq = n.Seq
	_ = s.Write(frame) // a closed session is gone; a full buffer closes it
}

func (h *Hub) publish(n projections.NotificationView, recipientID string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s, st := range h.byUser[recipientID] {
		st.mu.Lock()
		if st.replaying {
			st.queued = append(st.queued, n)
		} else {
			h.send(s, st, n)
		}
		st.mu.Unlock()
	}
}

// closeSessions closes the WebSockets opened with the given login sessions.
func (h *Hub) closeSessions(ids []string) {
	if len(ids) == 0 {
		return
	}
	ended := make(map[string]bool, len(ids))
	for _, id := range ids {
		ended[id] = true
	}
	var closing []*melody.Session
	h.mu.RLock()
	for _, sessions := range h.byUser {
		for s, st := range sessions {
			if ended[st.session] {
				closing = append(closing, s)
			}
		}
	}
	h.mu.RUnlock()
	for _, s := range closing {
		_ = s.CloseWithMsg(melody.FormatCloseMessage(websocket.ClosePolicyViolation, "session ended"))
	}
}

func (h *Hub) len() int { return h.m.Len() }

func (h *Hub) close() error {
	if h.m.IsClosed() {
		return nil
	}
	return h.m.CloseWithMsg(melody.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"))
}
