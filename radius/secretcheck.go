package radius

import (
	"errors"
	"fmt"
	"os"
)

// MinSecretLength is the shortest shared secret, in octets, that does not
// get a warning. RFC 2865, Section 3 prefers secrets of at least 16 octets.
const MinSecretLength = 16

// Weaknesses of a shared secret that the server and the client still
// accept, so that existing deployments keep working.
var (
	// ErrSecretFileMode reports a secret file that the group or other
	// users can access.
	ErrSecretFileMode = errors.New("radius: secret file accessible to group or others")
	// ErrSecretShort reports a secret shorter than MinSecretLength.
	ErrSecretShort = errors.New("radius: shared secret shorter than 16 octets")
)

// CheckSecret returns the weaknesses of a shared secret: a file that the
// group or other users can access, the same rule that the factory and the
// MASA apply to private keys, and a secret shorter than MinSecretLength.
// path is the file that the secret was read from, or "" for a secret
// written inline. The errors wrap ErrSecretFileMode or ErrSecretShort, name
// the fix and never contain the secret. A file that cannot be examined
// gives no warning, because reading it has already succeeded or failed.
func CheckSecret(secret []byte, path string) []error {
	var warnings []error
	if path != "" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			warnings = append(warnings, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s",
				ErrSecretFileMode, path, fi.Mode().Perm(), path))
		}
	}
	if len(secret) < MinSecretLength {
		warnings = append(warnings, fmt.Errorf("%w: it has %d octets; use a random secret of "+
			"%d octets or more, such as the output of openssl rand -hex 16",
			ErrSecretShort, len(secret), MinSecretLength))
	}
	return warnings
}

// CheckClientSecrets reads the secrets of the client blocks and returns
// their weaknesses as *ConfigError values that name the file, line and
// client. They are warnings: BuildClientTable accepts these secrets. dir
// resolves relative secret_file paths as in BuildClientTable. Blocks that
// are invalid, or whose secret file cannot be read, are skipped, because
// BuildClientTable reports them as errors.
func CheckClientSecrets(cfgs []ClientConfig, dir string) []error {
	var warnings []error
	for _, c := range cfgs {
		if c.Validate() != nil {
			continue
		}
		secret, path, err := c.readSecret(dir)
		if err != nil {
			continue
		}
		field := "secret"
		if path != "" {
			field = "secret_file"
		}
		for _, w := range CheckSecret(secret, path) {
			warnings = append(warnings, &ConfigError{Client: c.Name, Field: field,
				Range: c.DefRange, Err: w})
		}
	}
	return warnings
}
