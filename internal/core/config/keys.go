package config

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"sort"
	"strings"
)

// keySet maps between koanf keys ("posts.max_page_size") and the environment-style
// names people write (POSTS_MAX_PAGE_SIZE).
type keySet struct {
	byEnv  map[string]string // POSTS_MAX_PAGE_SIZE → posts.max_page_size
	envOf  map[string]string // posts.max_page_size → POSTS_MAX_PAGE_SIZE
	secret map[string]string // koanf key → "true" or "url"
	doc    map[string]string
}

func newKeySet(core *Core, sections []Section) (*keySet, error) {
	ks := &keySet{byEnv: map[string]string{}, envOf: map[string]string{}, secret: map[string]string{}, doc: map[string]string{}}
	if err := ks.add("", reflect.TypeOf(core).Elem()); err != nil {
		return nil, err
	}
	for _, s := range sections {
		t := reflect.TypeOf(s.Target)
		if s.Name == "" || t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("config section %q: target must be a pointer to a struct", s.Name)
		}
		if err := ks.add(s.Name, t.Elem()); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

func (ks *keySet) add(section string, t reflect.Type) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		key, env := tag, strings.ToUpper(tag)
		if section != "" {
			key = section + "." + tag
			env = strings.ToUpper(section + "_" + tag)
		}
		if other, dup := ks.byEnv[env]; dup {
			return fmt.Errorf("config key %s is declared twice (%s and %s)", env, other, key)
		}
		ks.byEnv[env], ks.envOf[key] = key, env
		if s := f.Tag.Get("secret"); s != "" {
			ks.secret[key] = s
		}
		ks.doc[key] = f.Tag.Get("doc")
	}
	return nil
}

// Print writes the effective configuration as KEY=value lines, sorted, with secrets
// masked and passwords removed from URLs.
func (c *Config) Print(w io.Writer) error {
	values := map[string]string{}
	collect := func(section string, s any) {
		v := reflect.ValueOf(s).Elem()
		t := v.Type()
		for i := range t.NumField() {
			tag := t.Field(i).Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			key := tag
			if section != "" {
				key = section + "." + tag
			}
			values[key] = c.keys.mask(key, format(v.Field(i)))
		}
	}
	collect("", &c.Core)
	for _, s := range c.sections {
		collect(s.Name, s.Target)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return c.keys.envOf[keys[i]] < c.keys.envOf[keys[j]] })
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "%s=%s\n", c.keys.envOf[k], values[k]); err != nil {
			return err
		}
	}
	return nil
}

func format(v reflect.Value) string {
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

func (ks *keySet) mask(key, value string) string {
	switch ks.secret[key] {
	case "":
		return value
	case "url":
		return redactURL(value)
	case "urls":
		parts := strings.Split(value, ",")
		for i, p := range parts {
			parts[i] = redactURL(p)
		}
		return strings.Join(parts, ",")
	}
	if value == "" {
		return ""
	}
	return "****"
}

// redactURL returns value with its password masked, or **** when it is not a URL.
func redactURL(value string) string {
	u, err := url.Parse(value)
	if err != nil {
		return "****"
	}
	return u.Redacted()
}
