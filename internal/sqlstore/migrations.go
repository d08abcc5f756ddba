package sqlstore

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered schema change, from a file named NNNN_name.sql.
type Migration struct {
	Version int
	Name    string // the file name
	SQL     string
}

// Migrations returns the migrations in directory dir of fsys, in version order. Their names
// must start with a number and "_"; two with one number are refused.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var list []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: its name must start with a number", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		list = append(list, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(list, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(list); i++ {
		if list[i].Version == list[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a number", list[i-1].Name, list[i].Name)
		}
	}
	return list, nil
}

// CheckNotNewer refuses a database on which a migration newer than the newest of list was
// applied: a newer program migrated it, and this one does not know its schema.
func CheckNotNewer(applied []int, list []Migration) error {
	if len(applied) == 0 || len(list) == 0 {
		return nil
	}
	if highest, last := slices.Max(applied), list[len(list)-1].Version; highest > last {
		return fmt.Errorf("the database is at schema version %d, newer than this program's %d", highest, last)
	}
	return nil
}
