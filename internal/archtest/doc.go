// Package archtest holds the test of the dependency rules between the
// project's packages: domain imports nothing of ours, app nothing outside
// the domain and the store, http neither the store nor the configuration,
// and nobody imports cmd. Its test reads every package's imports with
// go/parser and names each import that breaks a rule.
package archtest
