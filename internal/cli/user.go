package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/db"
)

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage user accounts from the command line",
	}
	cmd.AddCommand(newUserCreateAdminCmd())
	return cmd
}

func newUserCreateAdminCmd() *cobra.Command {
	var email, name string
	cmd := &cobra.Command{
		Use:   "create-admin --email EMAIL [--name NAME]",
		Short: "Create an administrator, or make an existing user one",
		Long: `Create an active user with role admin in DATABASE_URL.

The password is read from standard input: its first line when standard input is
not a terminal (e.g. piped from a secret store), otherwise it is asked for twice
without echo. It must be 12 to 256 characters long, and is hashed with the
PASSWORD_* settings.

When a user with the email (compared ignoring case) already exists, it is made an
active admin and gets the new password, its display name is changed only when
--name is given, and every one of its sessions is signed out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if err := checkEmail(email); err != nil {
				return err
			}
			plain, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			res, err := createAdmin(cmd.Context(), l.cfg, email, name, plain)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if res.Created {
				fmt.Fprintf(out, "Created admin user %d <%s>.\n", res.User.ID, res.User.Email)
				return nil
			}
			fmt.Fprintf(out, "User %d <%s> existed: it is now an active admin with the new password, and is signed out everywhere (%d refresh token(s) revoked).\n",
				res.User.ID, res.User.Email, res.Revoked)
			return nil
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "email address of the administrator (required)")
	cmd.Flags().StringVar(&name, "name", "", `display name (default "Administrator" for a new user; unchanged for an existing one)`)
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// checkEmail returns an error unless email is a bare address of at most 254
// characters.
func checkEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 {
		return fmt.Errorf("--email %q: not an email address", email)
	}
	return nil
}

// readPassword returns the password from in: its first line when in is not a
// terminal, otherwise typed twice without echo after prompts on prompt. Errors: a
// read error, an empty input, a mismatch, or a length outside 12 to 256 characters.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	var plain string
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		first, err := promptSecret(f, prompt, "Password: ")
		if err != nil {
			return "", err
		}
		again, err := promptSecret(f, prompt, "Repeat password: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the passwords do not match")
		}
		plain = first
	} else {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the password from standard input: %w", err)
		}
		plain = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if plain == "" {
			return "", errors.New("no password on standard input: pipe it as the first line, or run in a terminal to be prompted")
		}
	}
	if n := utf8.RuneCountInString(plain); n < account.MinPasswordLen || n > account.MaxPasswordLen {
		return "", fmt.Errorf("the password must be %d to %d characters long, got %d", account.MinPasswordLen, account.MaxPasswordLen, n)
	}
	return plain, nil
}

// promptSecret writes label to prompt and reads a line from the terminal f without
// echo.
func promptSecret(f *os.File, prompt io.Writer, label string) (string, error) {
	fmt.Fprint(prompt, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return string(b), nil
}

// createAdmin hashes plain with the PASSWORD_* settings of cfg and, on DATABASE_URL,
// creates an active admin with email and name or promotes the existing account with
// that email (see account.Service.MakeAdmin). Errors: invalid PASSWORD_* settings, a
// value the database refuses (naming the flags to check), hashing, connection and
// database errors.
func createAdmin(ctx context.Context, cfg *config.Config, email, name, plain string) (account.AdminResult, error) {
	params := password.DefaultParams()
	params.Memory, params.Iterations, params.Parallelism = cfg.PasswordMemoryKiB, cfg.PasswordIterations, cfg.PasswordParallelism
	if err := params.Validate(); err != nil {
		return account.AdminResult{}, fmt.Errorf("PASSWORD_*: %w", err)
	}
	pool, err := db.NewPool(ctx, db.PoolConfig{
		URL:            cfg.DatabaseURL,
		MaxConns:       1,
		ConnectTimeout: cfg.DBConnectTimeout,
		AcquireTimeout: cfg.DBAcquireTimeout,
	})
	if err != nil {
		return account.AdminResult{}, err
	}
	defer pool.Close()
	accounts := account.New(db.NewStore(pool), password.NewHasher(params, 1, time.Minute), nil)
	res, err := accounts.MakeAdmin(ctx, email, name, plain)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindInvalid {
		return account.AdminResult{}, fmt.Errorf("the database refused the user (%s): check --email and --name", e.Fields[0].Field)
	}
	if err != nil {
		return account.AdminResult{}, fmt.Errorf("create the admin: %w", err)
	}
	return res, nil
}
