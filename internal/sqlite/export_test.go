package sqlite

import "context"

// Pragmas returns the value of PRAGMA name on the writer connection and on a reader connection.
func Pragmas(ctx context.Context, s *Store, name string) (writer, reader string, err error) {
	if err = s.w.DB.QueryRowContext(ctx, "PRAGMA "+name).Scan(&writer); err != nil {
		return "", "", err
	}
	err = s.r.DB.QueryRowContext(ctx, "PRAGMA "+name).Scan(&reader)
	return writer, reader, err
}
