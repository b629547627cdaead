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
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/olahol/melody"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/internal/recent"
)

// wsPath is the route of the notifications' WebSocket.
const wsPath = "/ws/notifications"

// Hub writes each user's notifications to their WebSocket sessions, every
// seq once and in order. A session opened with after=<seq> first gets what it
// missed from the read model, then the live ones. Live notifications come
// from the bus and may run ahead of the read model: one that is not the next
// seq of its session means the session missed some, which the hub reads from
// the read model (waiting for it to catch up) before going on.
//
// A session's frames pass through melody's buffer at most inFlightFrames at a
// time, written by a goroutine that runs only while the session has something
// to send: a backlog goes out as fast as the socket drains, and an idle
// session costs no goroutine of its own.
type Hub struct {
	m       *melody.Melody
	q       query.ReadModels
	log     *slog.Logger
	metrics *metrics

	mu     sync.RWMutex
	byUser map[string]map[*melody.Session]*wsSession
}

// wsSession is the delivery state of one session.
type wsSession struct {
	user     string
	session  string        // the login session of the token it was opened with
	dropped  atomic.Bool   // closed for being slow
	ended    chan struct{} // closed when the session ends
	drained  chan struct{} // a frame of the session left melody's buffer
	inFlight atomic.Int32  // frames in melody's buffer

	mu      sync.Mutex
	writing bool                     // a writer runs
	live    []query.NotificationView // pushed and not yet written, in seq order; at most liveQueue
	latest  int64                    // the highest seq pushed
	sent    int64                    // the last seq written; -1 until a session without after gets its first
	replay  bool                     // the read model has yet to be read to its end
}

// Session keys.
const keySession = "session"

const (
	// inFlightFrames is how many frames a session's writer hands melody
	// before waiting for the socket to take one.
	inFlightFrames = 8
	// wsBuffer is melody's buffer of a session: the writer's frames and room
	// for the close frames the server sends. A full buffer closes the session.
	wsBuffer = inFlightFrames + 2
	// liveQueue bounds the notifications a session holds for a client that
	// reads slowly; the read model has the ones dropped past it.
	liveQueue = 64
	// replayPage is how many notifications a session reads at once.
	replayPage = 100
	// readModelRetry and readModelRetryMax space the reads of a session that
	// waits for the read model to catch up with the bus.
	readModelRetry, readModelRetryMax = 10 * time.Millisecond, time.Second
)

// wsReadBuffer holds a control frame (at most 125 bytes of payload) at once.
const wsReadBuffer = 512

func newHub(q query.ReadModels, origins []string, log *slog.Logger, m *metrics) *Hub {
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
	h.m.HandleSentMessage(func(s *melody.Session, _ []byte) {
		st := sessionOf(s)
		st.inFlight.Add(-1)
		select {
		case st.drained <- struct{}{}:
		default:
		}
	})
	h.m.HandleError(func(s *melody.Session, err error) {
		st := sessionOf(s)
		if !st.slow(err) || !st.dropped.CompareAndSwap(false, true) {
			return
		}
		h.metrics.wsSlowDropped.Inc()
		h.log.Warn("closing slow websocket client", "user", st.user)
		// Closing through melody would queue a close frame behind the full
		// buffer: drop the connection.
		_ = s.WebsocketConnection().Close()
	})
	return h
}

// slow tells whether err ends the session because its client stopped
// reading: a full buffer, or a timeout (of a write, or of the pong a reading
// client sends) while frames wait for the client.
func (st *wsSession) slow(err error) bool {
	var timeout net.Error
	return errors.Is(err, melody.ErrMessageBufferFull) || errors.As(err, &timeout) && timeout.Timeout() && st.inFlight.Load() > 0
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
		return newSession("", "")
	}
	return st
}

func newSession(user, session string) *wsSession {
	return &wsSession{user: user, session: session, ended: make(chan struct{}), drained: make(chan struct{}, 1), sent: -1}
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
func (h *Hub) handleConnect(employees query.EmployeeHandler, tok tokens, people *recent.Cache[knownEmployee]) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := c.QueryParam("token")
		if raw == "" {
			var err error
			if raw, err = bearer(c); err != nil {
				return err
			}
		}
		p, err := loadPrincipal(c.Request().Context(), employees, tok, people, raw)
		if err != nil {
			return err
		}
		if !access.Allowed(p.Employee, access.NotificationRead, access.Self) {
			return errForbidden
		}
		st := newSession(p.EmployeeID, p.sessionID)
		if s := c.QueryParam("after"); s != "" {
			after, err := strconv.ParseInt(s, 10, 64)
			if err != nil || after < 0 {
				return badRequest("invalid query parameters", map[string]string{"after": "must be a whole number >= 0"})
			}
			st.sent, st.latest, st.replay = after, after, true
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
	// The replay's writer is the session's one writer before publish can see
	// the session: a push meanwhile only queues, and never starts another
	// writer that would send pages read before this one moved on.
	st.mu.Lock()
	replay := st.replay
	st.writing = replay
	st.mu.Unlock()
	h.mu.Lock()
	if h.byUser[st.user] == nil {
		h.byUser[st.user] = map[*melody.Session]*wsSession{}
	}
	h.byUser[st.user][s] = st
	h.mu.Unlock()
	h.metrics.wsSessions.Inc()
	if replay {
		go h.write(s, st)
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
	close(st.ended)
	h.metrics.wsSessions.Dec()
}

func (h *Hub) publish(n query.NotificationView, recipientID string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s, st := range h.byUser[recipientID] {
		if st.push(n) {
			go h.write(s, st)
		}
	}
}

// push takes a live notification and reports whether a writer must start.
// A seq the session already knows of is a duplicate.
func (st *wsSession) push(n query.NotificationView) (start bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sent < 0 {
		st.sent, st.latest = n.Seq-1, n.Seq-1
	}
	if n.Seq <= st.latest {
		return false
	}
	st.latest = n.Seq
	if len(st.live) < liveQueue {
		st.live = append(st.live, n)
	}
	start = !st.writing
	st.writing = true
	return start
}

// write sends the session what it has not been sent, in seq order, and
// returns when there is nothing left or the session ends.
func (h *Hub) write(s *melody.Session, st *wsSession) {
	retry := readModelRetry
	for {
		step, n := st.next()
		switch step {
		case stepStop:
			return
		case stepSend:
			if !h.send(s, st, n) {
				return
			}
			continue
		}
		items, err := h.readAfter(st)
		if err != nil {
			h.log.Error("read notifications for a websocket", "user", st.user, "err", err)
			_ = s.CloseWithMsg(melody.FormatCloseMessage(websocket.CloseInternalServerErr, "reading notifications failed: reconnect"))
			return
		}
		for _, n := range items {
			if !h.send(s, st, n) {
				return
			}
		}
		if len(items) > 0 || step == stepReplay {
			retry = readModelRetry
			continue
		}
		// The read model has yet to receive what the bus already told of.
		select {
		case <-time.After(retry):
		case <-st.ended:
			return
		}
		retry = min(2*retry, readModelRetryMax)
	}
}

// step is what a session's writer does next.
type step int

const (
	stepStop    step = iota // nothing to send: the next push starts a writer again
	stepSend                // send the next live notification
	stepReplay              // read the read model to its end
	stepFillGap             // read the seqs that a push skipped, which the read model may not hold yet
)

func (st *wsSession) next() (step, query.NotificationView) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.live) > 0 && st.live[0].Seq <= st.sent {
		st.live = st.live[1:]
	}
	switch {
	case st.replay:
		return stepReplay, query.NotificationView{}
	case len(st.live) > 0 && st.live[0].Seq == st.sent+1:
		n := st.live[0]
		st.live = st.live[1:]
		return stepSend, n
	case st.sent < st.latest:
		return stepFillGap, query.NotificationView{}
	}
	st.live, st.writing = nil, false
	return stepStop, query.NotificationView{}
}

// readAfter reads the page of the read model that follows what the session
// was sent; a short page ends the replay.
func (h *Hub) readAfter(st *wsSession) ([]query.NotificationView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	st.mu.Lock()
	after := st.sent
	st.mu.Unlock()
	items, err := h.q.Notifications(ctx, st.user, false, after, replayPage)
	if err != nil {
		return nil, err
	}
	if len(items) < replayPage {
		st.mu.Lock()
		st.replay = false
		st.mu.Unlock()
	}
	return items, nil
}

// send writes n once melody's buffer has room for it, and reports whether
// the session is still open.
func (h *Hub) send(s *melody.Session, st *wsSession, n query.NotificationView) bool {
	frame, err := json.Marshal(notificationJSON(n))
	if err != nil {
		h.log.Error("encode notification", "id", n.ID, "err", err)
		st.passed(n.Seq)
		return true
	}
	for st.inFlight.Load() >= inFlightFrames {
		select {
		case <-st.drained:
		case <-st.ended:
			return false
		}
	}
	st.inFlight.Add(1)
	if s.Write(frame) != nil {
		return false
	}
	st.passed(n.Seq)
	return true
}

// passed records that the session has been sent everything up to seq.
func (st *wsSession) passed(seq int64) {
	st.mu.Lock()
	st.sent = max(st.sent, seq)
	st.latest = max(st.latest, seq)
	st.mu.Unlock()
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
