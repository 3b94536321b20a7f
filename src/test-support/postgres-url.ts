/** Where the PostgreSQL suite looks when TEST_DATABASE_URL is not set (what .ci/run sets up). */
export const defaultTestDatabaseUrl = 'postgres://postgres:postgres@127.0.0.1:5432/postgres'
