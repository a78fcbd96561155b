package gen

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// Flags binds the generator's options to fs (the flags of `api gen module`).
func Flags(fs *pflag.FlagSet, o *Options) {
	fs.StringVar(&o.Table, "table", "", "table name when it differs from the module's")
	fs.StringVar(&o.Owner, "owner", "", "column of the owning user (default: author_id, user_id or owner_id referencing users; - for none)")
	fs.StringVar(&o.Read, "read", "", "who may read: public, signed-in, owner or admin (default public)")
	fs.StringVar(&o.Write, "write", "", "who may write: signed-in, owner or admin (default owner with an owner column, else admin)")
	fs.StringSliceVar(&o.Sort, "sort", nil, "sort columns, the default first: id and at most one timestamptz column (default created_at,id)")
	fs.StringSliceVar(&o.Filter, "filter", nil, "optional list filters (default: foreign keys, booleans and IN-checked columns; - for none)")
	fs.StringVar(&o.Parent, "parent", "", "module to nest under, through the table's foreign key to its table")
	fs.StringSliceVar(&o.Ops, "ops", nil, "generic operations to generate: get, list, create, update, delete, bulk (default all)")
	fs.StringSliceVar(&o.Hide, "hide", nil, "columns clients never see nor write (default: names with password, secret or token, or ending in _hash; - for none)")
	fs.StringSliceVar(&o.Immutable, "immutable", nil, "columns set on create that updates never change")
}

// CommandLine returns the command that generates o, with the options given
// explicitly (the others are read from the table again at each run).
func CommandLine(o Options) string {
	args := []string{"api gen module", o.Name}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, "--"+flag, v)
		}
	}
	add("table", o.Table)
	add("owner", o.Owner)
	add("read", o.Read)
	add("write", o.Write)
	add("sort", strings.Join(o.Sort, ","))
	if o.Filter != nil {
		add("filter", cmpOr(strings.Join(o.Filter, ","), "-"))
	}
	add("parent", o.Parent)
	add("ops", strings.Join(o.Ops, ","))
	if o.Hide != nil {
		add("hide", cmpOr(strings.Join(o.Hide, ","), "-"))
	}
	add("immutable", strings.Join(o.Immutable, ","))
	return strings.Join(args, " ")
}

// ParseCommand returns the options of a command line written by CommandLine.
// Errors: a line that is not such a command, or unknown flags.
func ParseCommand(line string) (Options, error) {
	rest, ok := strings.CutPrefix(line, "api gen module ")
	if !ok {
		return Options{}, fmt.Errorf("%q is not an `api gen module` command", line)
	}
	var o Options
	fs := pflag.NewFlagSet("gen", pflag.ContinueOnError)
	Flags(fs, &o)
	if err := fs.Parse(strings.Fields(rest)); err != nil {
		return Options{}, fmt.Errorf("%q: %w", line, err)
	}
	if fs.NArg() != 1 {
		return Options{}, fmt.Errorf("%q: want one module name", line)
	}
	o.Name = fs.Arg(0)
	return o, nil
}
