package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/quarrydev/quarry/internal/core/config"
)

type postsConfig struct {
	MaxPageSize int           `koanf:"max_page_size" validate:"min=1,max=1000"`
	Timeout     time.Duration `koanf:"timeout"`
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("http-addr", "", "")
	fs.String("log-level", "", "")
	fs.StringArray("set", nil, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func load(t *testing.T, dir string, env []string, fs *pflag.FlagSet) (*config.Config, *postsConfig, error) {
	t.Helper()
	posts := &postsConfig{MaxPageSize: 100, Timeout: time.Second}
	cfg, err := config.Load(config.Options{Dir: dir, Environ: env, Flags: fs, Sections: []config.Section{{Name: "posts", Target: posts}}})
	return cfg, posts, err
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, ".env", "HTTP_ADDR=127.0.0.1:1001\nLOG_LEVEL=debug\nPOSTS_MAX_PAGE_SIZE=10\nREQUEST_TIMEOUT=3s\n")
	write(t, dir, ".env.test", "HTTP_ADDR=127.0.0.1:1002\nPOSTS_MAX_PAGE_SIZE=20\n")
	write(t, dir, ".env.dev", "HTTP_ADDR=127.0.0.1:9999\n") // not the selected environment

	// Defaults only.
	cfg, posts, err := load(t, t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" || cfg.AppEnv != "dev" || posts.MaxPageSize != 100 || cfg.LogFormat != "text" {
		t.Fatalf("defaults: %+v %+v", cfg.Core, posts)
	}

	// .env < .env.$APP_ENV < environment < flags.
	env := []string{"APP_ENV=test", "POSTS_TIMEOUT=2m", "UNRELATED_VAR=x"}
	cfg, posts, err = load(t, dir, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:1002" || cfg.LogLevel != "debug" || posts.MaxPageSize != 20 || posts.Timeout != 2*time.Minute || cfg.RequestTimeout != 3*time.Second {
		t.Fatalf("files and environment: %+v %+v", cfg.Core, posts)
	}
	env = append(env, "HTTP_ADDR=127.0.0.1:1003", "POSTS_MAX_PAGE_SIZE=30")
	cfg, posts, err = load(t, dir, env, nil)
	if err != nil || cfg.HTTPAddr != "127.0.0.1:1003" || posts.MaxPageSize != 30 {
		t.Fatalf("environment over files: %+v %+v %v", cfg.Core, posts, err)
	}
	cfg, posts, err = load(t, dir, env, flags(t, "--http-addr", "127.0.0.1:1004", "--set", "POSTS_MAX_PAGE_SIZE=40", "--set", "ENABLED_MODULES=a, b"))
	if err != nil || cfg.HTTPAddr != "127.0.0.1:1004" || posts.MaxPageSize != 40 || strings.Join(cfg.EnabledModules, "|") != "a|b" {
		t.Fatalf("flags over environment: %+v %+v %v", cfg.Core, posts, err)
	}
}

func TestInvalidValuesAreNamed(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, ".env", "POSTS_MAX_PAGE_SZ=10\n")
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"HTTP_ADDR=nonsense"}, []string{"HTTP_ADDR"}},
		{[]string{"POSTS_MAX_PAGE_SIZE=abc", "REQUEST_TIMEOUT=soon"}, []string{"POSTS_MAX_PAGE_SIZE", "REQUEST_TIMEOUT"}},
		{[]string{"POSTS_MAX_PAGE_SIZE=0"}, []string{"POSTS_MAX_PAGE_SIZE"}},
		{[]string{"APP_ENV=staging"}, []string{"APP_ENV"}},
		{[]string{"DATABASE_URL="}, []string{"DATABASE_URL"}},
		{[]string{"DATABASE_URL=mysql://x"}, []string{"DATABASE_URL"}},
		{[]string{"DATABASE_REPLICA_URLS=postgres://r@h/x,mysql://x"}, []string{"DATABASE_REPLICA_URLS (item 1)"}},
		{[]string{"LOG_LEVEL=loud"}, []string{"LOG_LEVEL"}},
		{[]string{"PASSWORD_NICE=20"}, []string{"PASSWORD_NICE"}},
		{[]string{"PASSWORD_NICE=-1"}, []string{"PASSWORD_NICE"}},
	} {
		_, _, err := load(t, t.TempDir(), tc.env, nil)
		var cerr *config.Error
		if !errors.As(err, &cerr) {
			t.Fatalf("%v: want a config error, got %v", tc.env, err)
		}
		for _, key := range tc.want {
			if !strings.Contains(err.Error(), key) {
				t.Errorf("%v: error must name %s: %v", tc.env, key, err)
			}
		}
	}
	// A typo in a .env file is refused by name.
	if _, _, err := load(t, dir, nil, nil); err == nil || !strings.Contains(err.Error(), "POSTS_MAX_PAGE_SZ") {
		t.Fatalf("unknown key in .env: %v", err)
	}
}

func TestProdRefusesInsecureDefaults(t *testing.T) {
	_, _, err := load(t, t.TempDir(), []string{"APP_ENV=prod"}, nil)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "CURSOR_SECRET") || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("prod with defaults: %v", err)
	}
	_, _, err = load(t, t.TempDir(), []string{"APP_ENV=prod", "DATABASE_URL=postgres://app:pw@db:5432/app",
		"CURSOR_SECRET=" + strings.Repeat("s", 40), "CORS_ALLOWED_ORIGINS=*"}, nil)
	if err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") {
		t.Fatalf("prod with CORS *: %v", err)
	}
	cfg, _, err := load(t, t.TempDir(), []string{"APP_ENV=prod", "DATABASE_URL=postgres://app:pw@db:5432/app",
		"CURSOR_SECRET=" + strings.Repeat("s", 40), "JWT_SECRET=" + strings.Repeat("j", 40)}, nil)
	if err != nil || cfg.LogFormat != "json" {
		t.Fatalf("valid prod config: %v %+v", err, cfg)
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	cfg, _, err := load(t, t.TempDir(), []string{"DATABASE_URL=postgres://app:hunter2@db:5432/app", "CURSOR_SECRET=" + strings.Repeat("z", 40),
		"DATABASE_REPLICA_URLS=postgres://app:hunter2@r1:5432/app,postgres://app:hunter2@r2:5432/app"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cfg.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "zzzz") {
		t.Fatalf("secrets printed:\n%s", out)
	}
	for _, want := range []string{"DATABASE_URL=postgres://app:xxxxx@db:5432/app", "CURSOR_SECRET=****",
		"DATABASE_REPLICA_URLS=postgres://app:xxxxx@r1:5432/app,postgres://app:xxxxx@r2:5432/app", "REPLICA_MAX_LAG=5s", "POSTS_MAX_PAGE_SIZE=100", "HTTP_ADDR=127.0.0.1:8080"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
