package http

import (
	"strconv"
	"testing"
	"time"
)

func TestRecent(t *testing.T) {
	t.Parallel()
	t.Run("a value answers until it expires or is forgotten", func(t *testing.T) {
		t.Parallel()
		c := newRecent[int](50 * time.Millisecond)
		c.put("a", 1)
		c.put("b", 2)
		if got, ok := c.get("a"); !ok || got != 1 {
			t.Errorf("get a: got %d, %v; want 1, true", got, ok)
		}
		c.forget("b")
		if _, ok := c.get("b"); ok {
			t.Error("get b after forget: got a value, want none")
		}
		time.Sleep(60 * time.Millisecond)
		if _, ok := c.get("a"); ok {
			t.Error("get a after its time: got a value, want none")
		}
	})
	t.Run("the cache holds at most maxRecent values", func(t *testing.T) {
		t.Parallel()
		c := newRecent[int](time.Hour)
		for i := range maxRecent + 10 {
			c.put(strconv.Itoa(i), i)
		}
		if got := len(c.m); got != maxRecent {
			t.Errorf("entries: got %d, want %d", got, maxRecent)
		}
		if got, ok := c.get(strconv.Itoa(maxRecent + 9)); !ok || got != maxRecent+9 {
			t.Errorf("latest value: got %d, %v; want %d, true", got, ok, maxRecent+9)
		}
	})
}
