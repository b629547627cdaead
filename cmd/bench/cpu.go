package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100
// on every Linux build this runs on).
const clockTicks = 100

// cpuSample is the CPU time spent so far by this process, by the Postgres
// backends serving the benchmark's database and by the Redis server.
type cpuSample struct {
	process  time.Duration
	backends map[int]time.Duration
	redis    time.Duration
}

// cpuMeter tells what a stretch of work cost in CPU, wherever it ran: a
// figure that other work on the host disturbs much less than a rate does.
type cpuMeter struct {
	pool  *pgxpool.Pool
	redis *redis.Client // nil: the in-process bus
}

func (m cpuMeter) sample(ctx context.Context) (cpuSample, error) {
	var s cpuSample
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, err
	}
	s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rows, err := m.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return s, err
	}
	s.backends = map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return s, err
		}
		if t, ok := procCPU(pid); ok {
			s.backends[pid] = t
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	if m.redis != nil {
		info, err := m.redis.Info(ctx, "cpu").Result()
		if err != nil {
			return s, err
		}
		s.redis = redisCPU(info)
	}
	return s, nil
}

// cpuCost is what was spent between two samples.
type cpuCost struct {
	process, postgres, redis time.Duration
}

func (c cpuCost) total() time.Duration { return c.process + c.postgres + c.redis }

func costBetween(from, to cpuSample) cpuCost {
	c := cpuCost{process: to.process - from.process, redis: to.redis - from.redis}
	// A backend that started meanwhile spent all it shows in the window;
	// one that ended meanwhile is lost (the pools keep theirs open).
	for pid, t := range to.backends {
		c.postgres += t - from.backends[pid]
	}
	return c
}

// perEvent prints the cost of n events in microseconds of CPU each.
func (c cpuCost) perEvent(n int) string {
	us := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/float64(max(n, 1))) }
	s := fmt.Sprintf("%s µs: this process %s, its Postgres backends %s", us(c.total()), us(c.process), us(c.postgres))
	if c.redis > 0 {
		s += ", Redis " + us(c.redis) + " (the whole server)"
	}
	return s
}

// procCPU reads the user and system time of a process.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after it; utime and stime are the 14th and 15th of the whole line.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// redisCPU reads used_cpu_sys and used_cpu_user of INFO cpu.
func redisCPU(info string) time.Duration {
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}
