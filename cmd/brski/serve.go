package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
)

// newLogger returns the logger of a long-running command at the level that
// its --log-level flag names. An unknown level is a usage error (exit 2).
func newLogger(command, level string, stderr io.Writer) (hclog.Logger, error) {
	logLevel := hclog.LevelFromString(level)
	if logLevel == hclog.NoLevel {
		return nil, &exitError{code: 2, err: fmt.Errorf("brski %s: invalid --log-level %q; "+
			"use trace, debug, info, warn or error", command, level)}
	}
	return hclog.New(&hclog.LoggerOptions{Name: command, Output: stderr, Level: logLevel}), nil
}

// serveUntilDone runs serve until it returns or ctx ends. When ctx ends first,
// it calls shutdown with a deadline of timeout and waits for serve, whose
// http.ErrServerClosed then counts as success. When serve returns first,
// its error is returned as it is and shutdown is not called.
func serveUntilDone(ctx context.Context, logger hclog.Logger, timeout time.Duration,
	serve func() error, shutdown func(context.Context) error) error {
	served := make(chan error, 1)
	go func() { served <- serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", timeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
