// Package archtest holds the test of the dependency rules between the
// project's packages: domain imports nothing of ours, app nothing outside
// the domain and the store, http neither the store nor the configuration,
// nobody imports cmd, and only internal/eventcodec the event catalog (so
// that no codec lacks the upcasters). Its test reads every package's imports with
// go/parser and names each import that breaks a rule.
package archtest
