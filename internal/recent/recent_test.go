package recent

import (
	"strconv"
	"testing"
	"time"
)

func TestRecent(t *testing.T) {
	t.Parallel()
	t.Run("a value answers until it expires or is forgotten", func(t *testing.T) {
		t.Parallel()
		c := New[int](50 * time.Millisecond)
		c.Put("a", 1)
		c.Put("b", 2)
		if got, ok := c.Get("a"); !ok || got != 1 {
			t.Errorf("get a: got %d, %v; want 1, true", got, ok)
		}
		c.Forget("b")
		if _, ok := c.Get("b"); ok {
			t.Error("get b after forget: got a value, want none")
		}
		time.Sleep(60 * time.Millisecond)
		if _, ok := c.Get("a"); ok {
			t.Error("get a after its time: got a value, want none")
		}
		if got, ok := c.Last("a"); !ok || got != 1 {
			t.Errorf("last a after its time: got %d, %v; want 1, true", got, ok)
		}
		if _, ok := c.Last("b"); ok {
			t.Error("last b after forget: got a value, want none")
		}
	})
	t.Run("the cache holds at most maxEntries values", func(t *testing.T) {
		t.Parallel()
		c := New[int](time.Hour)
		for i := range maxEntries + 10 {
			c.Put(strconv.Itoa(i), i)
		}
		if got := len(c.m); got != maxEntries {
			t.Errorf("entries: got %d, want %d", got, maxEntries)
		}
		if got, ok := c.Get(strconv.Itoa(maxEntries + 9)); !ok || got != maxEntries+9 {
			t.Errorf("latest value: got %d, %v; want %d, true", got, ok, maxEntries+9)
		}
	})
}
