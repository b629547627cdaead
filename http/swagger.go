package http

// The OpenAPI document's general information, read by `make swagger`.
//
//	@title						Employee tracking API
//	@version					1.0
//	@description				Check-ins and check-outs, annual leave, monthly working hours and live notifications, on an event-sourced backend. Errors are RFC 7807 problem documents (application/problem+json). Every path also works with a trailing slash.
//	@BasePath					/
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				"Bearer " followed by the access token from /api/auth/login/.
