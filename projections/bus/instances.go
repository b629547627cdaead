package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// HeartbeatEvery is how often an instance tells the others it lives.
	HeartbeatEvery = time.Second
	// instanceDeadAfter is how long after its last heartbeat an instance
	// counts as dead, and the others take over its pending entries.
	instanceDeadAfter = 5 * time.Second
	// forgetDeadAfter is how long a dead instance stays listed.
	forgetDeadAfter = time.Hour
	// instanceSlots bounds the pipelines of one system on one host.
	instanceSlots = 256
)

// Instances names this process among the members of the bus's consumer
// groups, and tells it which other instances died.
//
// The name is the host's name and the lowest slot free on this host, held by
// a lock on a file that the kernel releases when the process dies: a
// restarted process takes its former name again, and with it the entries it
// had read and not acknowledged, which it reads again at once; two processes
// running at once never share a name. Each instance writes a heartbeat into a
// sorted set of Redis; one whose heartbeat stopped instanceDeadAfter ago is
// dead, and the members of the others take over its entries.
type Instances struct {
	client *redis.Client
	key    string
	name   string
	lock   *os.File
	// beating is whether the last heartbeat went through; only the
	// heartbeat's goroutine uses it.
	beating bool
	// aloneFor counts the heartbeats in a row that found no other instance
	// alive; only the heartbeat's goroutine uses it.
	aloneFor int
	alone    atomic.Bool
	dead     atomic.Pointer[[]deadInstance]
}

// deadInstance is an instance at its last heartbeat (Unix milliseconds): a
// name that a restart took again and that died again is another dead one.
type deadInstance struct {
	name     string
	lastBeat int64
}

// JoinInstances takes a name for this process among the instances on b.
func JoinInstances(b *Bus) (*Instances, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "instance"
	}
	// The slots are per system: the database of Redis and the prefix its
	// streams have. Not the address, which two processes may write apart
	// for one Redis (localhost, 127.0.0.1): they would take one name, and
	// each would count itself alone. Two systems on two Redis with one
	// prefix only number their slots together.
	scope := sha256.Sum256([]byte(strconv.Itoa(b.redisOpts.DB) + "/" + b.prefix))
	lock, slot, err := lockSlot(hex.EncodeToString(scope[:8]))
	if err != nil {
		return nil, err
	}
	in := &Instances{client: b.client, key: b.prefix + "instances", name: host + "-" + strconv.Itoa(slot), lock: lock}
	in.dead.Store(&[]deadInstance{})
	return in, nil
}

// lockSlot locks the lowest free slot of scope on this host.
func lockSlot(scope string) (*os.File, int, error) {
	for slot := 0; slot < instanceSlots; {
		path := filepath.Join(os.TempDir(), "et-instance-"+scope+"-"+strconv.Itoa(slot)+".lock")
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, 0, fmt.Errorf("projections: instance name: %w", err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			slot++
			continue
		}
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("projections: instance name: lock %s: %w", path, err)
		}
		// The holder before may have removed the file (leave) between our
		// open and our lock: then the lock is on a file nobody else sees.
		if held, err := f.Stat(); err == nil {
			if now, err := os.Stat(path); err == nil && os.SameFile(held, now) {
				return f, slot, nil
			}
		}
		f.Close()
	}
	return nil, 0, fmt.Errorf("projections: instance name: all %d slots of this host are taken", instanceSlots)
}

// ConsumerName is the name of this instance's member number member of a
// consumer group; nil instances (the in-process bus) name none.
func (in *Instances) ConsumerName(member int) string {
	if in == nil {
		return ""
	}
	return in.name + "/" + strconv.Itoa(member)
}

// instanceOf is the instance of a member named by ConsumerName; "" for
// other names (those of earlier versions).
func instanceOf(consumer string) string {
	i := strings.LastIndex(consumer, "/")
	if i < 0 {
		return ""
	}
	return consumer[:i]
}

// Heartbeat records that this instance lives, forgets the instances dead for
// long, and lists the dead ones. After a heartbeat that failed it lists none:
// the others may not have had a chance to beat since Redis came back.
func (in *Instances) Heartbeat(ctx context.Context) error {
	now := time.Now().UnixMilli()
	pipe := in.client.Pipeline()
	pipe.ZAdd(ctx, in.key, redis.Z{Score: float64(now), Member: in.name})
	pipe.ZRemRangeByScore(ctx, in.key, "-inf", strconv.FormatInt(now-forgetDeadAfter.Milliseconds(), 10))
	stale := pipe.ZRangeByScoreWithScores(ctx, in.key, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now-instanceDeadAfter.Milliseconds(), 10),
	})
	alive := pipe.ZCount(ctx, in.key, "("+strconv.FormatInt(now-instanceDeadAfter.Milliseconds(), 10), "+inf")
	if _, err := pipe.Exec(ctx); err != nil {
		in.beating, in.aloneFor = false, 0
		in.alone.Store(false)
		return fmt.Errorf("projections: heartbeat: %w", err)
	}
	// Alone once two heartbeats in a row, a beat apart, found no other:
	// after Redis lost its data, the others have beaten again by then.
	if alive.Val() > 1 {
		in.aloneFor = 0
	} else {
		in.aloneFor++
	}
	in.alone.Store(in.aloneFor >= 2)
	if !in.beating {
		in.beating = true
		return nil
	}
	var dead []deadInstance
	for _, z := range stale.Val() {
		if name, _ := z.Member.(string); name != in.name {
			dead = append(dead, deadInstance{name: name, lastBeat: int64(z.Score)})
		}
	}
	in.dead.Store(&dead)
	return nil
}

// Alone says whether the last two heartbeats found no other instance alive:
// no other process's members read the bus. False while Redis fails.
func (in *Instances) Alone() bool { return in != nil && in.alone.Load() }

// deadOnes lists the dead instances as the last heartbeat saw them.
func (in *Instances) deadOnes() []deadInstance { return *in.dead.Load() }

// Leave gives the name up for another process of this host. The heartbeat
// stays: the others take over what this instance left pending.
func (in *Instances) Leave() error {
	// Removed while locked, so that no process locks the removed file.
	os.Remove(in.lock.Name())
	return in.lock.Close()
}
