import { BaseSequencer, type TestSpecification } from 'vitest/node'

/** Files that read what every other integration suite did, so they run after all of them. */
const LAST = ['shard-keys.test.ts']

/** Vitest's own order, with the files in LAST moved to the end. */
export class LastFilesSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const isLast = (f: TestSpecification) => LAST.some((name) => f.moduleId.endsWith(name))
    return [...sorted.filter((f) => !isLast(f)), ...sorted.filter(isLast)]
  }
}
