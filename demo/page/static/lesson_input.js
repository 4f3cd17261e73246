// The lessons' input (demo/page/lesson_tabs.py): the 28×28 model input now shown, as text, held by a gr.HTML that
// draws nothing. The pad (demo/page/static/pad.js) hands it each settled update's input through this function; setting
// props.value changes only the page's copy (no event listens to it), and the lessons read it when a tab opens.
window.convscopeLessonInput = (encoded) => { props.value = encoded; };
