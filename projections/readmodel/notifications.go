package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
)

// Notifications: each user's inbox.

type notificationRow struct {
	ID, RecipientID string
	Seq             int64
	Type, Message   string
	Data            map[string]any
	CreatedAt       time.Time
	Read            bool
	ReadAt          *time.Time
	// SubjectID is the person the notification is about; Erased says that
	// their personal data was erased, and Message and Data are empty.
	SubjectID string
	Erased    bool
	// DecidedBy is the decider a decision's notification names (their name
	// is in Data's decided_by_name), whose erasure clears it.
	DecidedBy string
}

var notificationsTable = newTable(table[string, notificationRow]{
	name:    "notifications",
	columns: []string{"id", "recipient_id", "seq", "type", "message", "data", "created_at", "read", "read_at", "subject_id", "erased", "decided_by"},
	types:   []string{"uuid", "uuid", "bigint", "text", "text", "jsonb", timestamptz, "boolean", timestamptz, "text", "boolean", "text"},
	keys:    1,
	key:     func(r notificationRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r notificationRow) []any {
		return []any{r.ID, r.RecipientID, r.Seq, r.Type, r.Message, r.Data, r.CreatedAt, r.Read, r.ReadAt, r.SubjectID, r.Erased, r.DecidedBy}
	},
	scan: func(row pgx.Row) (notificationRow, error) {
		var r notificationRow
		err := row.Scan(&r.ID, &r.RecipientID, &r.Seq, &r.Type, &r.Message, &r.Data, &r.CreatedAt, &r.Read, &r.ReadAt, &r.SubjectID, &r.Erased, &r.DecidedBy)
		return r, err
	},
})

func notificationsModel() *Model {
	apply := func(inbox rows[string, notificationRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case notification.Raised:
				msg, data := ev.View()
				if data == nil {
					data = map[string]any{}
				}
				return inbox.put(ctx, notificationRow{
					ID: ev.NotificationID, RecipientID: ev.RecipientID, Seq: e.Version, Type: string(ev.Type),
					Message: msg, Data: data, CreatedAt: ev.RaisedAt.UTC(), SubjectID: ev.SubjectID, Erased: e.Erased,
					DecidedBy: ev.DecidedBy,
				})
			case notification.Read:
				r, ok, err := inbox.get(ctx, ev.NotificationID)
				if err != nil {
					return err
				}
				if !ok {
					return poison.Mark(fmt.Errorf("%s %s: unknown notification %s", e.Type, e.ID, ev.NotificationID))
				}
				r.Read, r.ReadAt = true, optionalTime(ev.ReadAt)
				return inbox.put(ctx, r)
			}
			return nil
		}
	}
	return &Model{
		Name:     Notifications,
		Category: notification.Category,
		Tables:   []Table{notificationsTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, notificationsTable)) },
	}
}

// Queries.

func notificationViewOf(r notificationRow) query.NotificationView {
	return query.NotificationView{ID: r.ID, Seq: r.Seq, Type: r.Type, Message: r.Message, Data: r.Data, CreatedAt: r.CreatedAt, Read: r.Read,
		Erased: r.Erased}
}

// Notifications returns a user's notifications with a seq above afterSeq, in
// seq order, at most limit of them.
func (q *Queries) Notifications(ctx context.Context, recipientID string, unreadOnly bool, afterSeq int64, limit int) ([]query.NotificationView, error) {
	if !isUUID(recipientID) {
		return []query.NotificationView{}, nil
	}
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(notificationsTable.columns)+` FROM notifications
		WHERE recipient_id = $1 AND seq > $2 AND (NOT $3 OR NOT read) ORDER BY seq LIMIT $4`,
		recipientID, afterSeq, unreadOnly, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("projections: notifications: %w", err)
	}
	list, err := collectRows(rows, notificationsTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: notifications: %w", err)
	}
	out := make([]query.NotificationView, 0, len(list))
	for _, r := range list {
		out = append(out, notificationViewOf(r))
	}
	return out, nil
}

// Notification returns one notification of the recipient's inbox; another
// user's notification is not found.
func (q *Queries) Notification(ctx context.Context, recipientID, id string) (query.NotificationView, error) {
	r, err := byID(ctx, q.pool, notificationsTable, id, "notification")
	if err != nil {
		return query.NotificationView{}, err
	}
	if r.RecipientID != recipientID {
		return query.NotificationView{}, query.ErrNotFound
	}
	return notificationViewOf(r), nil
}
