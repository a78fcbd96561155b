package lint

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// Selection says which migration files are new, i.e. to be analyzed.
type Selection struct {
	// Latest > 0 selects the newest Latest files.
	Latest int
	// Base is a git ref: the files not in that commit's migration directory are new.
	// "" means the merge base of HEAD and DefaultBranch.
	Base string
	// DefaultBranch is the branch whose merge base is used when Base is "". Default "main".
	DefaultBranch string
}

// Selected is the outcome of Select.
type Selected struct {
	// Base files are replayed, not analyzed; Files are analyzed.
	Base, Files []migrate.File
	// From says how the set was chosen, for the reader, e.g. "files not on 1c2b4b2 (merge base with main)".
	From string
}

// Select splits the files of dir (found at dirPath on disk, inside a git work tree or
// not) into base and new files. Like the Atlas CLI it assumes a linear history: the
// first new file and everything after it are new. Without git history every file is
// new. It fails when an explicit Base ref cannot be read.
func Select(ctx context.Context, dir migrate.Dir, dirPath string, sel Selection) (*Selected, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	if sel.Latest > 0 {
		n := max(len(files)-sel.Latest, 0)
		return &Selected{Base: files[:n], Files: files[n:], From: fmt.Sprintf("the latest %d file(s)", sel.Latest)}, nil
	}
	ref, from := sel.Base, "files not on "+sel.Base
	if ref == "" {
		branch := sel.DefaultBranch
		if branch == "" {
			branch = "main"
		}
		if _, err := git(ctx, dirPath, "rev-parse", "--verify", "HEAD"); err != nil {
			return &Selected{Files: files, From: "all files (no git history)"}, nil
		}
		out, err := git(ctx, dirPath, "merge-base", "HEAD", branch)
		if err != nil {
			return &Selected{Files: files, From: "all files (no branch " + branch + " to compare with)"}, nil
		}
		ref = strings.TrimSpace(out)
		from = fmt.Sprintf("files not on %s (merge base with %s)", shortRef(ref), branch)
	}
	out, err := git(ctx, dirPath, "ls-tree", "--name-only", ref, ".")
	if err != nil {
		return nil, fmt.Errorf("--base %s: %w", ref, err)
	}
	onBase := strings.Fields(out)
	i := slices.IndexFunc(files, func(f migrate.File) bool { return !slices.Contains(onBase, f.Name()) })
	if i < 0 {
		return &Selected{Base: files, From: from}, nil
	}
	return &Selected{Base: files[:i], Files: files[i:], From: from}, nil
}

func shortRef(ref string) string {
	if len(ref) == 40 {
		return ref[:7]
	}
	return ref
}

// git runs git in dir and returns its standard output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}
