// Package command holds the use cases that change something, one file each:
// a command type, a handler with its dependencies, and Handle, which
// authorizes the actor through domain/access, loads the stream, decides
// through the domain, appends with the store's update function and returns
// what it decided. The HTTP API, etctl and (next) the sagas call them.
package command
